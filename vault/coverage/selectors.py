"""Reads for coverage. `coverage_inputs` gathers everything the computation needs for any
number of materials in a fixed number of GROUP BY queries; the list selectors narrow rows to
the materials a manufacturer holds entitlements in."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.conf import settings
from django.db.models import Aggregate, Case, DecimalField, F, Max, Q, QuerySet, Sum, Value, When
from django.utils import timezone

from vault.accounts.permissions import is_manufacturer
from vault.coverage import domain
from vault.coverage.domain import Status, month_start
from vault.coverage.models import Alert, ConsumptionForecast, CoverageSnapshot, ForecastVersion, Inbound
from vault.drawdowns.selectors import entitled_material_ids
from vault.inventory.models import Lot, Material, Movement, Position

ZERO = Decimal("0")
_QTY: DecimalField = DecimalField(max_digits=18, decimal_places=3)


def trailing_window_days() -> int:
    return int(getattr(settings, "VAULT_COVERAGE_TRAILING_WINDOW_DAYS", 90))


def warning_band() -> Decimal:
    return Decimal(str(getattr(settings, "VAULT_COVERAGE_WARNING_BAND", "0.20")))


def concentration_limit() -> Decimal:
    return Decimal(str(getattr(settings, "VAULT_CONCENTRATION_LIMIT", "0.65")))


@dataclass
class MaterialInputs:
    """Everything the computation needs for one material."""

    material_id: int
    code: str
    target_days: int
    usable_stock: Decimal = ZERO
    monthly_demand: dict[date, Decimal] = field(default_factory=dict)
    inbound: list[tuple[date, Decimal]] = field(default_factory=list)
    released: Decimal = ZERO
    by_mining: dict[str, Decimal] = field(default_factory=dict)
    by_processing: dict[str, Decimal] = field(default_factory=dict)


def _scoped(queryset: QuerySet, material_ids, column: str = "material_id") -> QuerySet:
    return queryset if material_ids is None else queryset.filter(**{f"{column}__in": material_ids})


def window_start(*, today: date, window_days: int) -> datetime:
    """Start of the trailing window: the `window_days` days ending today, today included."""
    first_day = today - timedelta(days=window_days - 1)
    return timezone.make_aware(datetime.combine(first_day, time.min))


def _totals(
    inputs: dict[int, MaterialInputs], queryset: QuerySet, group: tuple[str, ...], total: Aggregate
) -> Iterator[tuple[MaterialInputs, list, Decimal]]:
    """One GROUP BY query over `queryset`: (the material's inputs, the `group` values, the
    `total`, zero for a sum of nothing) per material and `group`, for the materials in `inputs`."""
    rows = queryset.order_by().values("material_id", *group).annotate(total=total)
    for material_id, *keys, value in rows.values_list("material_id", *group, "total"):
        entry = inputs.get(material_id)
        if entry is not None:
            yield entry, keys, ZERO if value is None else value


def coverage_inputs(
    *, today: date, material_ids: list[int] | None = None, window_days: int | None = None
) -> list[MaterialInputs]:
    """Inputs for the given materials (all when None), ordered by code. Six queries whatever
    the number of materials."""
    window_days = window_days or trailing_window_days()
    materials = _scoped(Material.objects.order_by("code"), material_ids, "pk").values_list(
        "pk", "code", "coverage_target_days"
    )
    inputs = {pk: MaterialInputs(material_id=pk, code=code, target_days=target) for pk, code, target in materials}
    if not inputs:
        return []
    ids = None if material_ids is None else list(inputs)

    # Usable stock: on hand - reserved - unavailable, from the maintained positions.
    for entry, _, total in _totals(inputs, _scoped(Position.objects.all(), ids), (), Sum("available")):
        entry.usable_stock = total or ZERO

    # Current forecast per month, summed over participants, from this month on.
    forecasts = _scoped(ConsumptionForecast.objects.all(), ids).filter(
        superseded_by__isnull=True, month__gte=month_start(today)
    )
    for entry, (month,), total in _totals(inputs, forecasts, ("month",), Sum("quantity")):
        entry.monthly_demand[month] = total

    # Confirmed inbound from today on.
    inbound = _scoped(Inbound.objects.all(), ids).filter(confirmed=True, expected_date__gte=today)
    for entry, (expected,), total in _totals(inputs, inbound, ("expected_date",), Sum("quantity")):
        entry.inbound.append((expected, total))

    # Released in the window: releases (negative) net of their reversals (positive).
    released = _scoped(Movement.objects.all(), ids).filter(
        Q(kind=Movement.Kind.RELEASE) | Q(kind=Movement.Kind.REVERSAL, reverses__kind=Movement.Kind.RELEASE),
        created_at__gte=window_start(today=today, window_days=window_days),
    )
    for entry, _, total in _totals(inputs, released, (), Sum("quantity")):
        entry.released = max(-(total or ZERO), ZERO)

    # Usable stock by origin, for concentration: free stock of available lots.
    free = _scoped(Lot.objects.all(), ids).filter(status=Lot.Status.AVAILABLE, on_hand__gt=F("reserved"))
    origins = ("mining_country", "processing_country")
    free_stock = Sum(F("on_hand") - F("reserved"), output_field=_QTY)
    for entry, (mined, processed), total in _totals(inputs, free, origins, free_stock):
        entry.by_mining[mined] = entry.by_mining.get(mined, ZERO) + total
        entry.by_processing[processed] = entry.by_processing.get(processed, ZERO) + total

    return list(inputs.values())


# --- the computation ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Figures:
    """Coverage of one material: what a snapshot stores (under the same names, but for
    `material` and `concentration`) and the scenario returns."""

    material_id: int
    material: str
    usable_stock: Decimal
    forward_days: Decimal | None
    beyond_horizon: bool
    depletion_date: date | None
    trailing_days: Decimal | None
    released_in_window: Decimal
    trailing_window_days: int
    target_days: int
    status: str
    concentration: domain.Concentration


def coverage_figures(
    *, inputs: MaterialInputs, today: date, window_days: int, band: Decimal, limit: Decimal
) -> Figures:
    """The figures of one material from its inputs (pure: no query)."""
    forward = domain.forward_coverage(
        stock=inputs.usable_stock, today=today, monthly_demand=inputs.monthly_demand, inbound=inputs.inbound
    )
    return Figures(
        material_id=inputs.material_id,
        material=inputs.code,
        usable_stock=inputs.usable_stock,
        forward_days=forward.days,
        beyond_horizon=forward.beyond_horizon,
        depletion_date=forward.depletion_date,
        trailing_days=domain.trailing_coverage(
            stock=inputs.usable_stock, released=inputs.released, window_days=window_days
        ),
        released_in_window=inputs.released,
        trailing_window_days=window_days,
        target_days=inputs.target_days,
        status=domain.coverage_status(days=forward.days, target_days=inputs.target_days, warning_band=band),
        concentration=domain.concentration(by_mining=inputs.by_mining, by_processing=inputs.by_processing, limit=limit),
    )


def figures_for(inputs: list[MaterialInputs], *, today: date) -> list[Figures]:
    """The figures of each material, with the configured window, warning band and
    concentration limit."""
    window, band, limit = trailing_window_days(), warning_band(), concentration_limit()
    return [coverage_figures(inputs=i, today=today, window_days=window, band=band, limit=limit) for i in inputs]


# --- lists for the API and the admin ------------------------------------------------------------


def visible_material_ids(*, user) -> set[int] | None:
    """None for staff (everything); the entitled materials for a manufacturer."""
    if is_manufacturer(user):
        return entitled_material_ids(organization=user.organization)
    return None


def _narrow(queryset: QuerySet, user) -> QuerySet:
    visible = visible_material_ids(user=user)
    return queryset if visible is None else queryset.filter(material_id__in=visible)


def latest_snapshot_ids() -> QuerySet:
    return CoverageSnapshot.objects.order_by().values("material_id").annotate(latest=Max("id")).values("latest")


SEVERITY = Case(
    When(status=Status.BREACH, then=Value(0)),
    When(status=Status.WARNING, then=Value(1)),
    When(status=Status.OK, then=Value(2)),
    default=Value(3),
)


def snapshot_latest_list(*, user=None) -> QuerySet[CoverageSnapshot]:
    """The latest snapshot of each material, worst first: breach, warning, ok, no demand, then
    by forward coverage."""
    queryset = CoverageSnapshot.objects.filter(pk__in=latest_snapshot_ids()).select_related("material")
    if user is not None:
        queryset = _narrow(queryset, user)
    return queryset.annotate(severity=SEVERITY).order_by(
        "severity", F("forward_days").asc(nulls_last=True), "material__code"
    )


def snapshot_history(*, material: Material, since: date | None = None) -> QuerySet[CoverageSnapshot]:
    queryset = CoverageSnapshot.objects.filter(material=material).select_related("material").order_by("-id")
    if since is not None:
        queryset = queryset.filter(as_of__gte=since)
    return queryset


def material_visible(*, user, material: Material) -> bool:
    visible = visible_material_ids(user=user)
    return visible is None or material.pk in visible


def forecast_list(*, user, include_superseded: bool = False) -> QuerySet[ConsumptionForecast]:
    """Forecast rows `user` may read: a manufacturer sees, for the materials it holds, the
    reserve-wide rows and its own organization's, never another participant's."""
    queryset = ConsumptionForecast.objects.select_related("material", "organization").order_by(
        "material__code", "month", "organization__code", "-version_id"
    )
    if not include_superseded:
        queryset = queryset.filter(superseded_by__isnull=True)
    if is_manufacturer(user):
        queryset = queryset.filter(Q(organization__isnull=True) | Q(organization_id=user.organization_id))
    return _narrow(queryset, user)


def forecast_version_list() -> QuerySet[ForecastVersion]:
    return ForecastVersion.objects.select_related("created_by").order_by("-id")


def inbound_list() -> QuerySet[Inbound]:
    return Inbound.objects.select_related("material", "created_by").order_by("expected_date", "id")


def alert_list(*, user=None) -> QuerySet[Alert]:
    queryset = Alert.objects.select_related("material").order_by("-opened_at", "-id")
    return queryset if user is None else _narrow(queryset, user)


def alert_open_list() -> QuerySet[Alert]:
    return alert_list().filter(resolved_at__isnull=True)


# --- the admin dashboard --------------------------------------------------------------------------


def dashboard_data(*, days: int = 60, table_limit: int = 50, chart_limit: int = 12) -> dict:
    """Context for the admin dashboard in three queries: the latest snapshot per material
    (worst first), the history of the worst `chart_limit` materials over `days`, open alerts."""
    latest = list(snapshot_latest_list()[:table_limit])
    charted = latest[:chart_limit]
    since = timezone.localdate() - timedelta(days=days - 1)
    points: dict[int, dict[str, str | None]] = defaultdict(dict)
    if charted:
        rows = (
            CoverageSnapshot.objects.filter(material_id__in=[s.material_id for s in charted], as_of__gte=since)
            .order_by("material_id", "as_of", "id")
            .values_list("material_id", "as_of", "forward_days")
        )
        for material_id, as_of, days_value in rows:
            # The last snapshot of each day wins.
            points[material_id][as_of.isoformat()] = None if days_value is None else str(days_value)
    labels = sorted({day for series in points.values() for day in series})
    chart = {
        "labels": labels,
        "series": [
            {
                "material": s.material.code,
                "target": s.target_days,
                "warning": str((Decimal(s.target_days) * (1 + warning_band())).quantize(Decimal("0.1"))),
                "status": s.status,
                "points": [points[s.material_id].get(day) for day in labels],
            }
            for s in charted
        ],
    }
    alerts = list(alert_open_list()[:table_limit])
    return {"snapshots": latest, "chart": chart, "alerts": alerts}
