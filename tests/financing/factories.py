"""Helpers that build financing data through the services, as production does."""

from datetime import date
from decimal import Decimal

from tests.factories import UserFactory
from vault.accounts.models import User
from vault.financing import services
from vault.financing.models import Facility, Tranche

LOAN_DEFAULTS = {
    "name": "Test loan",
    "kind": Facility.Kind.LOAN,
    "counterparty": "Export-Import Bank of the United States",
    "commitment": Decimal("10000000000.00"),
    "available_from": date(2026, 1, 1),
    "available_until": date(2030, 12, 31),
    "maturity_date": date(2041, 1, 1),
    "day_count": "ACT/360",
    "interest_rate_pct": Decimal("4.25"),
}


def make_facility(*, by, code: str = "LOAN-T", **overrides) -> Facility:
    values = {**LOAN_DEFAULTS, **overrides}
    if values["kind"] == Facility.Kind.PRIVATE_CAPITAL and "interest_rate_pct" not in overrides:
        values["interest_rate_pct"] = None
    return services.facility_create(code=code, by=by, **values)


def make_private_capital(*, by, code: str = "PC-T", **overrides) -> Facility:
    return make_facility(by=by, code=code, kind=Facility.Kind.PRIVATE_CAPITAL, **overrides)


def second_finance_user(user: User) -> User:
    """The finance user who checks what `user` made (four eyes): another real user, the same
    one each time for `user`."""
    return UserFactory(username=f"{user.username}-checker", role="finance")


def approved_tranche(*, facility: Facility, amount, by, expected_date: date = date(2026, 3, 2)) -> Tranche:
    """Planned by `by`, approved by `second_finance_user(by)`."""
    tranche = services.tranche_plan(facility=facility, amount=Decimal(str(amount)), expected_date=expected_date, by=by)
    return services.tranche_approve(tranche=tranche, by=second_finance_user(by))


def disburse(*, tranche: Tranche, by, on: date | None = None) -> Tranche:
    """Disbursed by `by`, confirmed by `second_finance_user(by)` when the amount needs a second user."""
    tranche = services.tranche_disburse(tranche=tranche, by=by, date=on)
    if tranche.disbursement_pending:
        tranche = services.tranche_disburse_confirm(tranche=tranche, by=second_finance_user(by))
    return tranche


def disbursed_tranche(*, facility: Facility, amount, on: date, by) -> Tranche:
    tranche = approved_tranche(facility=facility, amount=amount, by=by, expected_date=on)
    return disburse(tranche=tranche, by=by, on=on)
