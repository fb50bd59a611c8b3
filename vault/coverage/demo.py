"""Demo coverage: consumption forecasts for the demo materials, a few confirmed inbound
receipts, 30 days of backfilled daily snapshots so the dashboard chart has a trend, then a live
coverage check. Idempotent: each part is made only when missing.

THE FORECASTS ARE INVENTED FOR THE DEMO (no public per-element consumption data exists). Each
material's level is calibrated against its usable stock at seed time so that, after the check,
most materials are ok, GA (gallium) sits in the warning band and TB-OX (terbium oxide) is in
breach, whatever the other demo steps drew from the stock."""

from __future__ import annotations

import math
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.utils import timezone

from vault.accounts.demo import demo_manager
from vault.accounts.models import User
from vault.coverage import domain, services
from vault.coverage.models import ConsumptionForecast, CoverageRun, CoverageSnapshot, ForecastVersion, Inbound
from vault.coverage.selectors import MaterialInputs, coverage_figures, coverage_inputs
from vault.inventory.models import Material

LABEL = "coverage demo data"

SOURCE = "demo: invented forecast"
BACKFILL_TRIGGER = "demo backfill"
MONTHS = 24
BACKFILL_DAYS = 30

# material -> forward coverage (days) the invented forecast is calibrated to, today.
# Targets (inventory demo): 60 days, 90 for DY-OX/TB-OX/DY-MET, 100 for GA/GE.
COVERAGE_GOALS = {
    "NDPR-OX": 150,
    "ND-OX": 130,
    "PR-OX": 95,
    "DY-OX": 125,
    "TB-OX": 70,  # breach: below its 90-day target
    "DY-MET": 140,
    "NDFEB": 100,
    "GA": 108,  # warning: within 20% above its 100-day target
    "GE": 160,
    "SB": 200,
    "CO": 180,
    "LI2CO3": 90,
    "GRAPH": 110,
}

# material, kg, days from today, note
INBOUND = [
    ("NDPR-OX", "40000", 45, "MP Materials offtake, second delivery (demo)"),
    ("DY-OX", "1500", 120, "Lynas heavy rare earths, Malaysia (demo)"),
    ("CO", "20000", 60, "Umicore Kokkola (demo)"),
    ("GA", "1000", 150, "Dowa Metals, Japan (demo)"),
]

# material -> (kg received, days ago): before then the stock was that much lower (a chart step).
PAST_RECEIPTS = {"NDPR-OX": (Decimal("60000"), 12), "GE": (Decimal("2000"), 20)}


def _shape(month_index: int, month: date) -> Decimal:
    """Relative monthly demand: 1% growth a month and a mild seasonal swing."""
    seasonal = 1 + 0.06 * math.sin(2 * math.pi * (month.month - 3) / 12)
    return Decimal(str(round((1 + 0.01 * month_index) * seasonal, 4)))


def _calibrated_forecast(*, stock: Decimal, goal: int, today: date, inbound) -> dict[date, Decimal]:
    """Monthly kg (whole kilograms) for which the forward coverage of `stock` is close to `goal`."""
    months = [date(today.year + (today.month - 1 + i) // 12, (today.month - 1 + i) % 12 + 1, 1) for i in range(MONTHS)]
    shape = {m: _shape(i, m) for i, m in enumerate(months)}

    def coverage(scale: Decimal) -> Decimal:
        demand = {m: (s * scale).quantize(Decimal("1")) for m, s in shape.items()}
        days = domain.forward_coverage(stock=stock, today=today, monthly_demand=demand, inbound=inbound).days
        return Decimal("Infinity") if days is None else days

    low, high = Decimal("1"), max(stock, Decimal("1")) * 40  # coverage(low) is long, coverage(high) short
    for _ in range(60):
        middle = (low + high) / 2
        if coverage(middle) > goal:
            low = middle
        else:
            high = middle
    return {m: (s * high).quantize(Decimal("1")) for m, s in shape.items()}


def _forecasts(by, today: date) -> None:
    if ForecastVersion.objects.filter(source=SOURCE).exists():
        return
    materials = dict(Material.objects.filter(code__in=COVERAGE_GOALS).values_list("code", "pk"))
    inputs = {i.code: i for i in coverage_inputs(today=today, material_ids=list(materials.values()))}
    rows = []
    for code, goal in COVERAGE_GOALS.items():
        entry = inputs.get(code)
        if entry is None or entry.usable_stock <= 0:
            continue
        demand = _calibrated_forecast(stock=entry.usable_stock, goal=goal, today=today, inbound=entry.inbound)
        rows += [
            services.ForecastRow(material_id=entry.material_id, organization_id=None, month=m, quantity=q)
            for m, q in demand.items()
        ]
    if rows:
        services.forecast_upload(
            rows=rows, by=by, source=SOURCE, note="Invented for the demo: no public per-element consumption data."
        )


def _inbound(by, today: date) -> None:
    if Inbound.objects.filter(note__endswith="(demo)").exists():
        return
    materials = {m.code: m for m in Material.objects.filter(code__in=[row[0] for row in INBOUND])}
    for code, kg, days, note in INBOUND:
        if code in materials:
            services.inbound_create(
                by=by,
                material=materials[code],
                quantity=Decimal(kg),
                expected_date=today + timedelta(days=days),
                note=note,
            )


def _backfill(today: date) -> None:
    """Daily snapshots for the last BACKFILL_DAYS days, computed with the pure functions from
    the stock each material had then: today's usable stock plus what the forecast consumed since
    (less receipts made since). No alerts: they belong to live checks."""
    if CoverageRun.objects.filter(trigger=BACKFILL_TRIGGER).exists():
        return
    current = coverage_inputs(today=today)
    current = [i for i in current if i.code in COVERAGE_GOALS]
    demand = {
        (material_id, month): quantity
        for material_id, month, quantity in ConsumptionForecast.objects.filter(
            superseded_by__isnull=True, material_id__in=[i.material_id for i in current]
        ).values_list("material_id", "month", "quantity")
    }
    window, band, limit = 90, Decimal("0.20"), Decimal("0.65")
    for back in range(BACKFILL_DAYS, 0, -1):
        day = today - timedelta(days=back)
        moment = timezone.make_aware(datetime.combine(day, time(1, 0)))
        run = CoverageRun.objects.create(
            started_at=moment, finished_at=moment, as_of=day, trigger=BACKFILL_TRIGGER, material_count=len(current)
        )
        snapshots = []
        for entry in current:
            consumed = Decimal("0")
            for offset in range(back):
                d = day + timedelta(days=offset)
                monthly = demand.get((entry.material_id, d.replace(day=1)))
                if monthly is None:  # past months have no current forecast: use this month's
                    monthly = demand.get((entry.material_id, today.replace(day=1)), Decimal("0"))
                consumed += monthly / domain.days_in_month(d)
            received, days_ago = PAST_RECEIPTS.get(entry.code, (Decimal("0"), 0))
            stock = entry.usable_stock + consumed - (received if back > days_ago else Decimal("0"))
            past = MaterialInputs(
                material_id=entry.material_id,
                code=entry.code,
                target_days=entry.target_days,
                usable_stock=max(stock, Decimal("0")).quantize(Decimal("0.001")),
                monthly_demand={
                    m: q
                    for (material_id, m), q in demand.items()
                    if material_id == entry.material_id and m >= day.replace(day=1)
                },
                inbound=[(d, q) for d, q in entry.inbound if d >= day],
                released=Decimal("0"),
                by_mining=entry.by_mining,
                by_processing=entry.by_processing,
            )
            figures = coverage_figures(inputs=past, today=day, window_days=window, band=band, limit=limit)
            snapshots.append(services.snapshot_build(run=run, figures=figures, now=moment))
        CoverageSnapshot.objects.bulk_create(snapshots)


def seed(*, by: User | None = None) -> None:
    by = by or demo_manager()
    today = timezone.localdate()
    _inbound(by, today)
    _forecasts(by, today)
    _backfill(today)
    if not CoverageRun.objects.filter(as_of=today).exclude(trigger=BACKFILL_TRIGGER).exists():
        services.coverage_check(trigger="demo")
