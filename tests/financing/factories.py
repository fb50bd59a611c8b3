"""Helpers that build financing data through the services, as production does."""

from datetime import date
from decimal import Decimal

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


def approved_tranche(*, facility: Facility, amount, by, expected_date: date = date(2026, 3, 2)) -> Tranche:
    tranche = services.tranche_plan(facility=facility, amount=Decimal(str(amount)), expected_date=expected_date, by=by)
    return services.tranche_approve(tranche=tranche, by=by)


def disbursed_tranche(*, facility: Facility, amount, on: date, by) -> Tranche:
    tranche = approved_tranche(facility=facility, amount=amount, by=by, expected_date=on)
    return services.tranche_disburse(tranche=tranche, by=by, date=on)
