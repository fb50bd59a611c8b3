"""Demo financing: the EXIM loan ($10B, 15 years, rate a parameter), three private capital
investors summing to $1.67B, a few disbursed tranches (enough cash for the demo lots, which the
inventory demo posted as Dr inventory / Cr cash), interest accrued to yesterday with two
quarterly payments, and monthly market prices per material. Four eyes: the tranches are planned
(and large disbursements requested) by the demo's finance user and approved (and confirmed) by a
second finance user, `finance2`; the monthly prices move less than `VAULT_PRICE_MOVE_CONFIRM_PCT`
from month to month, so each is in force as recorded (version 1, no second user). Investor names, tranche sizes and
prices are invented for the demo and labelled as such. Idempotent: a second run the same day
changes nothing (on a later day only the new days of interest are accrued, as the daily task
would)."""

from __future__ import annotations

import os
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.utils import timezone

from vault.accounts.demo import DEMO_PASSWORD, demo_manager
from vault.accounts.models import User
from vault.accounts.roles import Role
from vault.accounts.services import user_upsert
from vault.financing import selectors, services
from vault.financing.models import DayCount, Facility, InterestAccrual, InterestPayment, PricePoint, Tranche
from vault.inventory.models import Material

LABEL = "financing demo data"

# Parameter: the EXIM rate is not public (see docs/domain.md).
EXIM_RATE_PCT = Decimal(os.environ.get("VAULT_DEMO_EXIM_RATE_PCT", "4.25"))

FACILITIES: list[dict[str, Any]] = [
    {
        "code": "EXIM-2026",
        "name": "EXIM direct loan to the reserve",
        "kind": Facility.Kind.LOAN,
        "counterparty": "Export-Import Bank of the United States",
        "commitment": Decimal("10000000000.00"),
        "available_from": date(2026, 2, 2),
        "available_until": date(2031, 2, 1),
        "maturity_date": date(2041, 2, 2),  # reported as a 15-year loan
        "day_count": DayCount.ACT_360,
    },
    {
        "code": "PC-ATLAS",
        "name": "Atlas Infrastructure Partners commitment (demo investor)",
        "kind": Facility.Kind.PRIVATE_CAPITAL,
        "counterparty": "Atlas Infrastructure Partners (invented)",
        "commitment": Decimal("700000000.00"),
    },
    {
        "code": "PC-MERIDIAN",
        "name": "Meridian Pension Fund commitment (demo investor)",
        "kind": Facility.Kind.PRIVATE_CAPITAL,
        "counterparty": "Meridian Pension Fund (invented)",
        "commitment": Decimal("570000000.00"),
    },
    {
        "code": "PC-KESTREL",
        "name": "Kestrel Sovereign Capital commitment (demo investor)",
        "kind": Facility.Kind.PRIVATE_CAPITAL,
        "counterparty": "Kestrel Sovereign Capital (invented)",
        "commitment": Decimal("400000000.00"),
    },
]
PRIVATE_CAPITAL_TERMS: dict[str, Any] = {
    "available_from": date(2026, 2, 2),
    "available_until": date(2029, 2, 1),
    "maturity_date": date(2036, 2, 2),
}

# facility, amount, date, purpose, disbursed? (sizes and dates invented)
TRANCHES = [
    ("PC-ATLAS", "140000000.00", date(2026, 2, 16), "Capital call 1 (20%)", True),
    ("PC-MERIDIAN", "114000000.00", date(2026, 2, 16), "Capital call 1 (20%)", True),
    ("PC-KESTREL", "80000000.00", date(2026, 3, 16), "Capital call 1 (20%)", True),
    ("EXIM-2026", "250000000.00", date(2026, 3, 2), "Tranche 1: NdPr and Nd oxide purchases", True),
    ("EXIM-2026", "400000000.00", date(2026, 6, 1), "Tranche 2: heavy rare earths, gallium, germanium", True),
    ("EXIM-2026", "750000000.00", date(2027, 3, 1), "Tranche 3: magnet block and battery materials", False),
]
INTEREST_PAYMENTS = [date(2026, 7, 1), date(2026, 10, 1)]  # quarterly, interest accrued to the day before

# Indicative USD/kg around the ranges of the domain brief; the monthly pattern is invented.
PRICE_BASE = {
    "NDPR-OX": "80",
    "ND-OX": "57",
    "PR-OX": "78",
    "DY-OX": "420",
    "TB-OX": "1300",
    "DY-MET": "560",
    "NDFEB": "105",
    "GA": "600",
    "GE": "2000",
    "SB": "42",
    "CO": "34",
    "LI2CO3": "11",
    "GRAPH": "6.50",
}
PRICE_PATTERN = ["0.80", "0.84", "0.90", "0.97", "1.05", "1.12", "1.20", "1.30", "1.22", "1.15", "1.10", "1.08"]
PRICE_SOURCE = "Demo assessment (invented)"
CHECKER = "finance2"  # the second finance user: approves and confirms what `finance` asks


def _finance_user(username: str) -> User:
    found = User.objects.filter(username=username).first()
    if found is not None and found.has_role(Role.FINANCE):
        return found
    return user_upsert(
        username=username,
        role=Role.FINANCE,
        org_code="VAULT",
        password=DEMO_PASSWORD,
        email=f"{username}@vault.example",
    )


def seed(*, by: User | None = None) -> None:
    by = by or demo_manager()
    actor, checker = _finance_user("finance"), _finance_user(CHECKER)
    today = timezone.localdate()
    facilities = {}
    for spec in FACILITIES:
        facility = Facility.objects.filter(code=spec["code"]).first()
        if facility is None:
            terms = {} if spec["kind"] == Facility.Kind.LOAN else PRIVATE_CAPITAL_TERMS
            rate = EXIM_RATE_PCT if spec["kind"] == Facility.Kind.LOAN else None
            facility = services.facility_create(by=actor, interest_rate_pct=rate, **terms, **spec)
        facilities[facility.code] = facility

    for code, amount, day, purpose, disburse in TRANCHES:
        facility = facilities[code]
        if Tranche.objects.filter(facility=facility, purpose=purpose).exists():
            continue
        tranche = services.tranche_plan(
            facility=facility, amount=Decimal(amount), expected_date=day, purpose=purpose, by=actor
        )
        if disburse and day <= today:
            services.tranche_approve(tranche=tranche, by=checker)
            tranche = services.tranche_disburse(tranche=tranche, by=actor, date=day)
            if tranche.disbursement_pending:
                services.tranche_disburse_confirm(tranche=tranche, by=checker)

    exim = facilities["EXIM-2026"]
    yesterday = today - timedelta(days=1)
    for payment_day in INTEREST_PAYMENTS:
        if payment_day > today or InterestPayment.objects.filter(facility=exim, date=payment_day).exists():
            continue
        services.interest_accrue(facility=exim, through=payment_day - timedelta(days=1))
        due = selectors.interest_payable(exim, as_of=payment_day)
        if due > 0:
            services.interest_pay(
                facility=exim, amount=due, date=payment_day, by=actor, memo=f"Quarterly interest to {payment_day}"
            )
    if not InterestAccrual.objects.filter(facility=exim, date__gte=yesterday).exists():
        services.interest_accrue(facility=exim, through=yesterday)

    _seed_prices(actor, today)


def _seed_prices(actor, today: date) -> None:
    materials = {m.code: m for m in Material.objects.filter(code__in=PRICE_BASE)}
    for code, base in PRICE_BASE.items():
        material = materials.get(code)
        if material is None:
            continue
        for month, factor in enumerate(PRICE_PATTERN, start=1):
            day = date(2026, month, 1)
            if day > today or PricePoint.objects.filter(material=material, date=day, source=PRICE_SOURCE).exists():
                continue
            price = (Decimal(base) * Decimal(factor)).quantize(Decimal("0.01"))
            services.price_point_create(material=material, date=day, usd_per_kg=price, source=PRICE_SOURCE, by=actor)


def summary() -> list[str]:
    """The second finance login, for `seed_demo`'s closing lines."""
    return [f"  {CHECKER:<10} finance (approves what `finance` plans: four eyes)"]
