from datetime import date
from decimal import Decimal

import pytest

from tests.financing.factories import disbursed_tranche
from vault.financing import selectors, services
from vault.ledger.models import JournalEntry
from vault.ledger.services import entry_reverse

D = Decimal


@pytest.fixture
def history(loan, finance):
    """1M drawn 2 March, 2M drawn 15 April, 0.5M repaid 20 May; interest accrued to 31 May and
    the March interest paid 1 April."""
    disbursed_tranche(facility=loan, amount="1000000.00", on=date(2026, 3, 2), by=finance)
    services.interest_accrue(facility=loan, through=date(2026, 3, 31))
    services.interest_pay(facility=loan, amount=D("3541.67"), date=date(2026, 4, 1), by=finance)
    disbursed_tranche(facility=loan, amount="2000000.00", on=date(2026, 4, 15), by=finance)
    services.repayment_create(facility=loan, amount=D("500000.00"), date=date(2026, 5, 20), by=finance)
    services.interest_accrue(facility=loan, through=date(2026, 5, 31))
    loan.refresh_from_db()
    return loan


def test_monthly_statement_rolls_balances_forward(history):
    statement = selectors.facility_statement(
        facility=history, period="month", date_from=date(2026, 3, 1), date_to=date(2026, 5, 31)
    )
    march, april, may = statement.rows

    assert (march.period, march.start, march.end) == ("2026-03", date(2026, 3, 1), date(2026, 3, 31))
    assert (march.opening_principal, march.disbursements, march.repayments, march.closing_principal) == (
        D("0"),
        D("1000000.00"),
        D("0"),
        D("1000000.00"),
    )
    assert march.interest_accrued == D("3541.67")  # 30 days of 118.0555.., rounded once
    assert (april.opening_interest_payable, april.interest_paid) == (D("3541.67"), D("3541.67"))
    assert april.closing_principal == D("3000000.00")
    assert (may.repayments, may.closing_principal) == (D("500000.00"), D("2500000.00"))
    assert may.closing_principal == history.outstanding
    for row in statement.rows:
        assert row.closing_principal == row.opening_principal + row.disbursements - row.repayments
        assert row.closing_interest_payable == (row.opening_interest_payable + row.interest_accrued - row.interest_paid)
    accrued = sum(a.amount for a in history.accruals.all())
    assert sum(r.interest_accrued for r in statement.rows) == accrued


def test_quarterly_statement_from_mid_quarter_starts_with_the_opening_balance(history):
    statement = selectors.facility_statement(
        facility=history, period="quarter", date_from=date(2026, 4, 16), date_to=date(2026, 9, 30)
    )
    q2, q3 = statement.rows
    assert (q2.period, q2.start, q2.end) == ("2026-Q2", date(2026, 4, 16), date(2026, 6, 30))
    assert q2.opening_principal == D("3000000.00")
    assert q2.disbursements == 0
    assert q2.closing_principal == D("2500000.00") == q3.closing_principal
    assert (q3.period, q3.interest_accrued) == ("2026-Q3", 0)


def test_reversal_of_a_disbursal_nets_out_and_manual_postings_show_as_adjustments(loan, finance):
    tranche = disbursed_tranche(facility=loan, amount="10.00", on=date(2026, 3, 2), by=finance)
    entry = JournalEntry.objects.get(source_type="tranche", source_id=tranche.pk)
    entry_reverse(entry=entry, date=date(2026, 3, 3), by=finance)
    from vault.ledger.services import Line, entry_post

    entry_post(
        date=date(2026, 3, 4),
        memo="Reclass",
        lines=[Line("1000", debit=D("7.00")), Line("2100-LOAN-T", credit=D("7.00"))],
        source_type="reclassification",  # a manual entry may not touch the loan account (tests/ledger)
        by=finance,
    )
    (march,) = selectors.facility_statement(facility=loan, date_from=date(2026, 3, 1), date_to=date(2026, 3, 31)).rows
    assert (march.disbursements, march.principal_adjustments, march.closing_principal) == (D("0"), D("7.00"), D("7.00"))


def test_statement_ranges_are_bounded(loan):
    from vault.core.errors import InvalidInput

    with pytest.raises(InvalidInput) as exc:
        selectors.facility_statement(facility=loan, date_from=date(1900, 1, 1), date_to=date(2026, 1, 1))
    assert exc.value.field == "date_to"
    with pytest.raises(InvalidInput):
        selectors.facility_statement(facility=loan, date_from=date(2026, 2, 1), date_to=date(2026, 1, 1))
    last = selectors.facility_statement(
        facility=loan, period="quarter", date_from=date(9999, 11, 1), date_to=date(9999, 12, 31)
    ).rows
    assert [(r.period, r.start, r.end) for r in last] == [("9999-Q4", date(9999, 11, 1), date(9999, 12, 31))]
