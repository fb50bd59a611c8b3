from datetime import date
from decimal import Decimal

import pytest

from tests.financing.factories import LOAN_DEFAULTS, make_facility, make_private_capital
from vault.core.errors import InvalidInput
from vault.financing import services
from vault.financing.models import Facility, InterestRate
from vault.ledger.chart import AccountType
from vault.ledger.models import Account


def test_loan_opens_loan_and_interest_payable_accounts_and_first_rate(finance):
    facility = make_facility(by=finance, code="EXIM-X", interest_rate_pct=Decimal("4.25"))

    assert facility.account.code == "2100-EXIM-X"
    assert facility.account.type == AccountType.LIABILITY
    assert facility.interest_account.code == "2000-EXIM-X"
    assert {facility.account.subledger, facility.interest_account.subledger} == {"EXIM-X"}
    rate = InterestRate.objects.get(facility=facility)
    assert (rate.effective_from, rate.rate_pct) == (facility.available_from, Decimal("4.25"))
    assert (facility.disbursed, facility.outstanding, facility.undrawn) == (0, 0, facility.commitment)
    assert facility.history.count() == 1
    assert facility.history.first().history_user == finance


def test_private_capital_opens_investor_capital_equity_account_and_no_rate(finance):
    facility = make_private_capital(by=finance, code="PC-X", commitment=Decimal("670000000.00"))

    assert facility.account.code == "3100-PC-X"
    assert facility.account.type == AccountType.EQUITY
    assert facility.interest_account is None
    assert not InterestRate.objects.filter(facility=facility).exists()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"commitment": Decimal("-1.00")}, "commitment"),
        ({"commitment": Decimal("0")}, "commitment"),
        ({"commitment": Decimal("100.001")}, "commitment"),
        ({"available_until": date(2025, 12, 31)}, "available_until"),
        ({"maturity_date": date(2029, 1, 1)}, "maturity_date"),
        ({"interest_rate_pct": None}, "interest_rate_pct"),
        ({"interest_rate_pct": Decimal("-0.5")}, "interest_rate_pct"),
        ({"interest_rate_pct": Decimal("100")}, "interest_rate_pct"),
        ({"kind": "bond"}, "kind"),
        ({"currency": "EUR"}, "currency"),
        ({"day_count": "30/360"}, "day_count"),
        ({"code": "lower-case"}, "code"),
        ({"kind": "private_capital", "interest_rate_pct": Decimal("5")}, "interest_rate_pct"),
    ],
)
def test_bad_terms_are_refused_with_the_field_named_and_nothing_written(finance, overrides, field):
    values = {**LOAN_DEFAULTS, "code": "BAD-1", **overrides}
    accounts = Account.objects.count()

    with pytest.raises(InvalidInput) as exc:
        services.facility_create(by=finance, **values)

    assert exc.value.field == field
    assert Facility.objects.count() == 0
    assert Account.objects.count() == accounts
    assert InterestRate.objects.count() == 0


def test_taken_code_is_refused(finance, loan):
    with pytest.raises(InvalidInput) as exc:
        make_facility(by=finance, code=loan.code)
    assert exc.value.field == "code"
    assert Facility.objects.count() == 1


def test_update_never_lowers_commitment_below_disbursed(finance, loan):
    from tests.financing.factories import disbursed_tranche

    disbursed_tranche(facility=loan, amount="3000000000.00", on=date(2026, 3, 2), by=finance)

    with pytest.raises(InvalidInput) as exc:
        services.facility_update(facility=loan, by=finance, commitment=Decimal("2999999999.99"))
    assert exc.value.field == "commitment"

    updated = services.facility_update(facility=loan, by=finance, commitment=Decimal("3000000000.00"), name="Renamed")
    loan.refresh_from_db()
    assert (updated.commitment, loan.commitment, loan.name) == (Decimal("3000000000.00"),) * 2 + ("Renamed",)
    assert loan.undrawn == 0


def test_availability_cannot_end_before_a_disbursed_tranche(finance, loan):
    from tests.financing.factories import disbursed_tranche

    disbursed_tranche(facility=loan, amount="1000.00", on=date(2026, 3, 2), by=finance)
    with pytest.raises(InvalidInput) as exc:
        services.facility_update(facility=loan, by=finance, available_until=date(2026, 3, 1))
    assert exc.value.field == "available_until"
