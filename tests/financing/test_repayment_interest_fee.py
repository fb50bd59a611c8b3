from datetime import date
from decimal import Decimal

import pytest

from tests.financing.factories import disbursed_tranche
from tests.financing.helpers import entry_lines, row_counts
from vault.core.errors import Conflict, InvalidInput, NotFound
from vault.financing import selectors, services
from vault.financing.models import FeeReceipt, Repayment
from vault.ledger.models import JournalEntry
from vault.ledger.selectors import account_balance

ON = date(2026, 3, 2)


@pytest.fixture
def drawn(loan, finance):
    disbursed_tranche(facility=loan, amount="1000000.00", on=ON, by=finance)
    loan.refresh_from_db()
    return loan


def test_repayment_posts_loan_payable_against_cash_and_reduces_outstanding(drawn, finance):
    repayment = services.repayment_create(
        facility=drawn, amount=Decimal("400000.00"), date=date(2026, 4, 1), by=finance
    )

    drawn.refresh_from_db()
    assert (drawn.disbursed, drawn.repaid, drawn.outstanding, drawn.undrawn) == (
        Decimal("1000000.00"),
        Decimal("400000.00"),
        Decimal("600000.00"),
        Decimal("9999000000.00"),
    )
    entry = JournalEntry.objects.get(source_type="repayment", source_id=repayment.pk)
    assert entry_lines(entry) == [("2100-LOAN-T", "400000.00", "0.00"), ("1000", "0.00", "400000.00")]
    assert account_balance(code="2100-LOAN-T") == Decimal("600000.00")


def test_repayment_beyond_outstanding_on_its_date_is_refused(drawn, finance):
    disbursed_tranche(facility=drawn, amount="500000.00", on=date(2026, 5, 1), by=finance)
    before = row_counts()
    # On 1 April only the first million is out.
    with pytest.raises(InvalidInput) as exc:
        services.repayment_create(facility=drawn, amount=Decimal("1000000.01"), date=date(2026, 4, 1), by=finance)
    assert exc.value.field == "amount"
    assert row_counts() == before
    services.repayment_create(facility=drawn, amount=Decimal("1500000.00"), date=date(2026, 5, 1), by=finance)
    drawn.refresh_from_db()
    assert drawn.outstanding == 0


def test_repayments_are_recorded_in_date_order_and_after_accruals(drawn, finance):
    services.repayment_create(facility=drawn, amount=Decimal("1.00"), date=date(2026, 4, 10), by=finance)
    with pytest.raises(InvalidInput) as exc:
        services.repayment_create(facility=drawn, amount=Decimal("1.00"), date=date(2026, 4, 9), by=finance)
    assert exc.value.field == "date"
    services.interest_accrue(facility=drawn, through=date(2026, 4, 20))
    with pytest.raises(Conflict) as exc:
        services.repayment_create(facility=drawn, amount=Decimal("1.00"), date=date(2026, 4, 20), by=finance)
    assert exc.value.field == "date"
    assert Repayment.objects.count() == 1


def test_interest_payment_moves_payable_to_cash_up_to_what_is_accrued(drawn, finance):
    services.interest_accrue(facility=drawn, through=date(2026, 3, 31))
    accrued = account_balance(code="2000-LOAN-T")
    assert accrued == Decimal("3541.67")  # 1M x 4.25% / 360 x 30 = 3541.666.., rounded once

    before = row_counts()
    with pytest.raises(InvalidInput) as exc:
        services.interest_pay(facility=drawn, amount=accrued + Decimal("0.01"), date=date(2026, 4, 1), by=finance)
    assert exc.value.field == "amount"
    assert row_counts() == before

    payment = services.interest_pay(facility=drawn, amount=accrued, date=date(2026, 4, 1), by=finance)
    entry = JournalEntry.objects.get(source_type="interest_payment", source_id=payment.pk)
    assert entry_lines(entry) == [("2000-LOAN-T", str(accrued), "0.00"), ("1000", "0.00", str(accrued))]
    assert account_balance(code="2000-LOAN-T") == 0
    assert selectors.interest_payable(drawn) == 0


def test_interest_payments_are_recorded_in_date_order(drawn, finance):
    """A payment dated before one already recorded would change what was payable when the later
    one was checked: refused on `date`, nothing written; the same day is fine."""
    services.interest_accrue(facility=drawn, through=date(2026, 3, 31))
    services.interest_pay(facility=drawn, amount=Decimal("100.00"), date=date(2026, 3, 20), by=finance)
    before = row_counts()
    with pytest.raises(InvalidInput) as exc:
        services.interest_pay(facility=drawn, amount=Decimal("1.00"), date=date(2026, 3, 19), by=finance)
    assert exc.value.field == "date"
    assert row_counts() == before
    services.interest_pay(facility=drawn, amount=Decimal("1.00"), date=date(2026, 3, 20), by=finance)
    assert selectors.interest_payable(drawn) == Decimal("3541.67") - Decimal("101.00")


def test_private_capital_has_no_interest(capital, finance):
    with pytest.raises(InvalidInput) as exc:
        services.interest_pay(facility=capital, amount=Decimal("1.00"), date=ON, by=finance)
    assert exc.value.field == "facility"
    assert services.interest_accrue(facility=capital, through=date(2026, 4, 1)) == []


def test_fee_receive_posts_cash_against_fee_income_linked_to_its_source(finance, org_a):
    entry = services.fee_receive(
        organization=org_a,
        amount=Decimal("250000.00"),
        date=ON,
        memo="Upfront fee, NdPr agreement",
        by=finance,
        source_type="agreement",
        source_id=42,
    )

    assert (entry.source_type, entry.source_id, entry.date) == ("agreement", 42, ON)
    assert entry_lines(entry) == [("1000", "250000.00", "0.00"), ("4000", "0.00", "250000.00")]
    fee = FeeReceipt.objects.get()
    assert (fee.entry, fee.organization, fee.amount) == (entry, org_a, Decimal("250000.00"))
    assert entry.fee_receipt == fee
    assert account_balance(code="4000") == Decimal("250000.00")


def test_fee_receive_accepts_an_organization_code_and_refuses_bad_input(finance, org_a):
    entry = services.fee_receive(
        organization="ORG-A", amount=Decimal("1.00"), date=ON, memo="", by=finance, source_type="fee", source_id=None
    )
    assert entry.fee_receipt.organization == org_a
    before = row_counts()
    with pytest.raises(NotFound):
        services.fee_receive(
            organization="NOPE", amount=Decimal("1.00"), date=ON, memo="", by=finance, source_type="fee", source_id=1
        )
    for amount in (Decimal("-1.00"), Decimal("0.001")):
        with pytest.raises(InvalidInput) as exc:
            services.fee_receive(
                organization=org_a, amount=amount, date=ON, memo="", by=finance, source_type="fee", source_id=1
            )
        assert exc.value.field == "amount"
    assert row_counts() == before


def test_a_fee_is_recorded_once_per_source(finance, org_a):
    services.fee_receive(
        organization=org_a, amount=Decimal("10.00"), date=ON, memo="fee", by=finance, source_type="api", source_id=7
    )
    before = row_counts()
    with pytest.raises(Conflict) as twice:
        services.fee_receive(
            organization=org_a, amount=Decimal("10.00"), date=ON, memo="fee", by=finance, source_type="api", source_id=7
        )
    assert (twice.value.code, twice.value.field, twice.value.status_code) == ("fee_already_received", "source_id", 409)
    assert row_counts() == before
