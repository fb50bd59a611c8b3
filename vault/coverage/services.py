"""Writes for coverage: forecasts, inbound receipts, coverage checks and their alerts.

Guarantees:
- `coverage_check` writes a run and its complete snapshot set in one transaction (a worker
  killed in the middle leaves nothing), reads its inputs in a fixed number of queries whatever
  the number of materials, and opens or resolves alerts idempotently: at most one open alert per
  material and level (a partial unique constraint in the database), resolved when coverage
  recovers. Concurrent checks of the same materials queue on the materials' row locks.
- A forecast upload is all-or-nothing: any bad row raises `ForecastRowsInvalid` listing every
  bad row, and nothing is written.
- `coverage_scenario` computes the same figures with overrides and writes nothing.
"""

from __future__ import annotations

import csv
import io
import logging
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from vault.accounts.models import Organization, User
from vault.accounts.roles import Role
from vault.core.errors import InvalidInput
from vault.core.history import history_as
from vault.core.numbers import PCT, parse_decimal, parse_quantity
from vault.core.outbox import outbox_enqueue
from vault.coverage import domain
from vault.coverage.domain import Status
from vault.coverage.errors import ForecastRowsInvalid
from vault.coverage.models import (
    Alert,
    ConsumptionForecast,
    CoverageRun,
    CoverageSnapshot,
    ForecastVersion,
    Inbound,
)
from vault.coverage.selectors import (
    MaterialInputs,
    concentration_limit,
    coverage_inputs,
    trailing_window_days,
    warning_band,
)
from vault.inventory.models import Material

log = logging.getLogger(__name__)
QUANTUM = Decimal("0.001")
MAX_ROW_ERRORS_SHOWN = 100
RECHECK_TASK = "vault.coverage.tasks.coverage_recheck"
NOTIFY_TASK = "vault.coverage.tasks.alerts_notify"


# --- the computation ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Figures:
    """Coverage of one material: what a snapshot stores and the scenario returns."""

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


def _figures_for(inputs: list[MaterialInputs], today: date) -> list[Figures]:
    window, band, limit = trailing_window_days(), warning_band(), concentration_limit()
    return [coverage_figures(inputs=i, today=today, window_days=window, band=band, limit=limit) for i in inputs]


def _shares_json(shares: Mapping[str, Decimal]) -> dict[str, str]:
    return {country: str(share) for country, share in shares.items()}


def snapshot_build(run: CoverageRun, figures: Figures, now) -> CoverageSnapshot:
    c = figures.concentration
    return CoverageSnapshot(
        run=run,
        material_id=figures.material_id,
        computed_at=now,
        as_of=run.as_of,
        usable_stock=figures.usable_stock,
        forward_days=figures.forward_days,
        beyond_horizon=figures.beyond_horizon,
        depletion_date=figures.depletion_date,
        trailing_days=figures.trailing_days,
        released_in_window=figures.released_in_window,
        trailing_window_days=figures.trailing_window_days,
        target_days=figures.target_days,
        status=figures.status,
        mining_shares=_shares_json(c.mining),
        processing_shares=_shares_json(c.processing),
        china_mining_share=c.china_mining,
        china_processing_share=c.china_processing,
        concentration_flagged=c.flagged,
    )


_ALERT_LEVEL = {Status.BREACH: Alert.Level.BREACH, Status.WARNING: Alert.Level.WARNING}


def _alerts_sync(*, run: CoverageRun, figures: list[Figures], now) -> tuple[list[int], int]:
    """Open the alert a material's status calls for and resolve the others (at most one open
    alert per material: a breach replaces a warning and the other way round). Returns the ids of
    the alerts opened and the number resolved."""
    wanted = {f.material_id: _ALERT_LEVEL.get(f.status) for f in figures}
    by_id = {f.material_id: f for f in figures}
    open_alerts = {
        (a.material_id, a.level): a
        for a in Alert.objects.filter(resolved_at__isnull=True, material_id__in=list(wanted)).only(
            "id", "material_id", "level"
        )
    }
    resolve = [a.pk for (material_id, level), a in open_alerts.items() if wanted.get(material_id) != level]
    if resolve:
        Alert.objects.filter(pk__in=resolve).update(resolved_at=now, resolved_by_run=run)
    opened = Alert.objects.bulk_create(
        [
            Alert(
                material_id=material_id,
                level=level,
                opened_at=now,
                opened_by_run=run,
                forward_days=by_id[material_id].forward_days,
                target_days=by_id[material_id].target_days,
            )
            for material_id, level in wanted.items()
            if level is not None and (material_id, level) not in open_alerts
        ]
    )
    return [a.pk for a in opened], len(resolve)


def coverage_check(
    *, material_ids: Iterable[int] | None = None, trigger: str = "manual", today: date | None = None
) -> CoverageRun:
    """Compute coverage for the given materials (all when None), store a run with one snapshot
    per material and sync the alerts, all in one transaction. Managers are e-mailed about the
    alerts opened (through the outbox, after commit)."""
    ids = None if material_ids is None else sorted(set(material_ids))
    today = today or timezone.localdate()
    started = timezone.now()
    with transaction.atomic():
        # Queue behind any other check of these materials, then read: the latest run always
        # reflects the latest committed stock. NO KEY UPDATE leaves stock movements unblocked.
        locked = Material.objects.select_for_update(no_key=True).order_by("pk")
        list((locked if ids is None else locked.filter(pk__in=ids)).values_list("pk", flat=True))
        figures = _figures_for(coverage_inputs(today=today, material_ids=ids), today)
        now = timezone.now()
        run = CoverageRun.objects.create(
            started_at=started,
            finished_at=now,
            as_of=today,
            trigger=trigger[:40],
            material_count=len(figures),
        )
        CoverageSnapshot.objects.bulk_create([snapshot_build(run, f, now) for f in figures], batch_size=2000)
        opened, resolved = _alerts_sync(run=run, figures=figures, now=now)
        if opened or resolved:
            run.alerts_opened, run.alerts_resolved = len(opened), resolved
            run.save(update_fields=["alerts_opened", "alerts_resolved"])
        if opened:
            outbox_enqueue(NOTIFY_TASK, alert_ids=opened)
    return run


def coverage_recheck_enqueue(*, material_ids: Iterable[int]) -> None:
    """Ask for a recheck of these materials once the current transaction commits (outbox: a
    broker outage loses nothing)."""
    ids = sorted(set(material_ids))
    if not ids:
        return
    with transaction.atomic():
        outbox_enqueue(RECHECK_TASK, material_ids=ids)


def alerts_notify(*, alert_ids: list[int]) -> int:
    """E-mail active managers about newly opened alerts; returns the number of alerts sent."""
    alerts = list(
        Alert.objects.filter(pk__in=alert_ids, notified_at__isnull=True).select_related("material").order_by("id")
    )
    if not alerts:
        return 0
    recipients = list(
        User.objects.filter(role=Role.MANAGER, is_active=True)
        .exclude(email="")
        .order_by("email")
        .values_list("email", flat=True)
    )
    if recipients:
        lines = []
        for alert in alerts:
            days = "unbounded" if alert.forward_days is None else f"{alert.forward_days} days"
            lines.append(f"- {alert.material.code}: {alert.get_level_display()}, {days} (target {alert.target_days})")
        breaches = sum(a.level == Alert.Level.BREACH for a in alerts)
        subject = f"Vault coverage: {len(alerts)} alert(s) opened" + (f", {breaches} breach" if breaches else "")
        body = "Forward coverage fell below target or into the warning band:\n\n" + "\n".join(lines)
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, recipients, fail_silently=False)
    Alert.objects.filter(pk__in=[a.pk for a in alerts]).update(notified_at=timezone.now())
    return len(alerts)


# --- scenario -------------------------------------------------------------------------------------


def _pct(value, *, field: str, low: Decimal, high: Decimal | None) -> Decimal:
    pct = parse_decimal(value, field=field, digits=PCT, what="Percentages")
    if pct < low or (high is not None and pct > high):
        bound = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise InvalidInput(f"Must be {bound}.", field=field, code="percentage_out_of_range")
    return pct


def coverage_scenario(
    *,
    materials: list[str] | None = None,
    demand_change_pct: Decimal | int = 0,
    inbound_cut_pct: Decimal | int = 0,
    extra_drawdowns: list[dict] | None = None,
    today: date | None = None,
    visible_ids: set[int] | None = None,
) -> list[Figures]:
    """What-if coverage: demand changed by `demand_change_pct` %, confirmed inbound cut by
    `inbound_cut_pct` %, and `extra_drawdowns` ([{material, quantity}]) taken out of usable stock
    today. Same figures as a check; nothing is written."""
    today = today or timezone.localdate()
    demand_pct = _pct(demand_change_pct, field="demand_change_pct", low=Decimal("-100"), high=None)
    cut_pct = _pct(inbound_cut_pct, field="inbound_cut_pct", low=Decimal("0"), high=Decimal("100"))
    codes = set(materials or [])
    drawdowns: dict[str, Decimal] = defaultdict(Decimal)
    for n, item in enumerate(extra_drawdowns or []):
        code = item.get("material") or ""
        quantity = parse_quantity(item.get("quantity"), field=f"extra_drawdowns[{n}].quantity")
        drawdowns[code] += quantity
    wanted = codes | set(drawdowns)
    known = dict(Material.objects.filter(code__in=wanted).values_list("code", "pk"))
    unknown = sorted(c for c in wanted if c not in known or (visible_ids is not None and known[c] not in visible_ids))
    if unknown:
        field = "materials" if set(unknown) & codes else "extra_drawdowns"
        raise InvalidInput(
            f"Unknown material(s): {', '.join(map(str, unknown))}.", field=field, code="material_unknown"
        )
    ids: list[int] | None = [known[c] for c in codes] if codes else None
    if ids is None and visible_ids is not None:
        ids = sorted(visible_ids)
    inputs = coverage_inputs(today=today, material_ids=ids)
    cut = 1 - cut_pct / 100
    for entry in inputs:
        entry.monthly_demand = {m: domain.scale(q, demand_pct) for m, q in entry.monthly_demand.items()}
        entry.inbound = [(d, q * cut) for d, q in entry.inbound]
        extra = drawdowns.get(entry.code)
        if extra:
            entry.usable_stock = max(entry.usable_stock - extra, Decimal("0"))
    figures = _figures_for(inputs, today)
    # Quantities shown as stored: three decimals.
    return [replace(f, usable_stock=f.usable_stock.quantize(QUANTUM)) for f in figures]


# --- forecasts ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ForecastRow:
    material_id: int
    organization_id: int | None
    month: date
    quantity: Decimal


FORECAST_COLUMNS = ("material", "month", "quantity", "organization")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def _forecast_quantity(raw) -> Decimal:
    """A month's forecast in kg: zero is a forecast (no use that month), a negative one is not."""
    return parse_quantity(raw, allow_zero=True)


def parse_month(raw: str) -> date:
    match = _MONTH.match((raw or "").strip())
    if not match or not 1 <= int(match.group(2)) <= 12 or int(match.group(1)) < 1900:
        raise InvalidInput("Use YYYY-MM, e.g. 2026-07.", field="month", code="month_malformed")
    return date(int(match.group(1)), int(match.group(2)), 1)


def forecast_rows_parse(
    *, rows: Iterable[Mapping[str, str]], first_row_number: int = 2, max_rows: int | None = None
) -> list[ForecastRow]:
    """Validate raw rows ({material, month, quantity, organization?} as text). Raises
    `ForecastRowsInvalid` with every bad row; codes are resolved in two queries."""
    max_rows = max_rows or int(getattr(settings, "VAULT_FORECAST_MAX_ROWS", 200_000))
    raw_rows = []
    for n, row in enumerate(rows):
        if n >= max_rows:
            raise InvalidInput(f"At most {max_rows} rows per upload.", field="file", code="too_many_rows")
        raw_rows.append(row)
    if not raw_rows:
        raise InvalidInput("The upload has no rows.", field="file", code="no_rows")
    materials = dict(
        Material.objects.filter(code__in={(r.get("material") or "").strip() for r in raw_rows}).values_list(
            "code", "pk"
        )
    )
    org_codes = {(r.get("organization") or "").strip() for r in raw_rows} - {""}
    organizations = dict(Organization.objects.filter(code__in=org_codes).values_list("code", "pk"))

    errors: dict[str, dict[str, list[str]]] = {}
    error_count = 0
    parsed: list[ForecastRow] = []
    seen: dict[tuple, int] = {}
    for n, row in enumerate(raw_rows, start=first_row_number):
        row_errors: dict[str, list[str]] = {}
        code = (row.get("material") or "").strip()
        org_code = (row.get("organization") or "").strip()
        material_id = materials.get(code)
        if not code:
            row_errors["material"] = ["This field is required."]
        elif material_id is None:
            row_errors["material"] = [f"Unknown material {code!r}."]
        organization_id = None
        if org_code:
            organization_id = organizations.get(org_code)
            if organization_id is None:
                row_errors["organization"] = [f"Unknown organization {org_code!r}."]
        month = quantity = None
        for name, parse in (("month", parse_month), ("quantity", _forecast_quantity)):
            try:
                value = parse(row.get(name) or "")
            except InvalidInput as exc:
                row_errors[name] = [exc.message if (row.get(name) or "").strip() else "This field is required."]
            else:
                if name == "month":
                    month = value
                else:
                    quantity = value
        if not row_errors:
            key = (material_id, organization_id, month)
            if key in seen:
                row_errors["month"] = [f"Duplicate of row {seen[key]} (same material, organization and month)."]
            else:
                seen[key] = n
                assert material_id is not None and isinstance(month, date) and isinstance(quantity, Decimal)
                parsed.append(ForecastRow(material_id, organization_id, month, quantity))
        if row_errors:
            error_count += 1
            if len(errors) < MAX_ROW_ERRORS_SHOWN:
                errors[f"row {n}"] = row_errors
    if errors:
        raise ForecastRowsInvalid(errors, total_errors=error_count)
    return parsed


def forecast_csv_rows(file) -> Iterable[dict[str, str]]:
    """Rows of a CSV upload (text or bytes stream) as dicts; the header names the columns."""
    text = file if isinstance(file, io.TextIOBase) else io.TextIOWrapper(file, encoding="utf-8-sig", newline="")
    try:
        reader = csv.DictReader(text)
        header = [(h or "").strip().lower() for h in (reader.fieldnames or [])]
    except UnicodeDecodeError:
        raise InvalidInput("The file is not UTF-8 text.", field="file", code="file_not_utf8")
    missing = [c for c in FORECAST_COLUMNS[:3] if c not in header]
    unknown = [c for c in header if c not in FORECAST_COLUMNS]
    if missing or unknown:
        parts = []
        if missing:
            parts.append(f"missing column(s) {', '.join(missing)}")
        if unknown:
            parts.append(f"unknown column(s) {', '.join(unknown)}")
        raise InvalidInput(
            f"Bad header: {'; '.join(parts)}. Expected: material,month,quantity[,organization].",
            field="file",
            code="csv_header_invalid",
        )
    reader.fieldnames = header
    try:
        yield from reader
    except UnicodeDecodeError:
        raise InvalidInput("The file is not UTF-8 text.", field="file", code="file_not_utf8")
    except csv.Error as exc:
        raise InvalidInput(f"Unreadable CSV at line {reader.line_num}: {exc}.", field="file", code="csv_unreadable")


@transaction.atomic
def forecast_upload(
    *, rows: list[ForecastRow], by, source: str, note: str = "", replace: str = "material"
) -> ForecastVersion:
    """Store `rows` as a new forecast version. `replace="material"` (a file upload): the new
    version supersedes every current row of each material and organization it covers.
    `replace="month"` (one row): only the current row of that material, organization and month."""
    if not rows:
        raise InvalidInput("The upload has no rows.", field="file", code="no_rows")
    if replace not in ("material", "month"):
        raise ValueError(replace)
    material_ids = sorted({r.material_id for r in rows})
    # Serialize uploads for the same materials so two never leave two current rows.
    list(Material.objects.select_for_update(no_key=True).filter(pk__in=material_ids).order_by("pk").values("pk"))
    version = ForecastVersion.objects.create(created_by=by, source=source[:200], note=note[:300], row_count=len(rows))
    groups: dict[tuple, set[int]] = defaultdict(set)
    for r in rows:
        key: tuple = (r.organization_id,) if replace == "material" else (r.organization_id, r.month)
        groups[key].add(r.material_id)
    condition = Q()
    for key, ids in groups.items():
        part = Q(organization_id=key[0]) if key[0] is not None else Q(organization__isnull=True)
        if replace == "month":
            part &= Q(month=key[1])
        condition |= part & Q(material_id__in=sorted(ids))
    superseded = ConsumptionForecast.objects.filter(condition, superseded_by__isnull=True).update(superseded_by=version)
    ConsumptionForecast.objects.bulk_create(
        [
            ConsumptionForecast(
                version=version,
                material_id=r.material_id,
                organization_id=r.organization_id,
                month=r.month,
                quantity=r.quantity,
            )
            for r in rows
        ],
        batch_size=5000,
    )
    if superseded:
        version.superseded_count = superseded
        version.save(update_fields=["superseded_count"])
    coverage_recheck_enqueue(material_ids=material_ids)
    return version


def forecast_import_csv(
    *, file, by, source: str, note: str = "", progress: Callable[[Iterable], Iterable] | None = None
) -> ForecastVersion:
    """Parse and store a CSV file, all or nothing. `progress` wraps the row iterator (tqdm)."""
    rows: Iterable = forecast_csv_rows(file)
    if progress is not None:
        rows = progress(rows)
    return forecast_upload(rows=forecast_rows_parse(rows=rows), by=by, source=source, note=note)


# --- inbound --------------------------------------------------------------------------------------


def _check_inbound(*, quantity: Decimal, expected_date: date) -> Decimal:
    quantity = parse_quantity(quantity)
    if expected_date < timezone.localdate():
        raise InvalidInput(
            "Inbound is a future receipt: the expected date cannot be in the past.",
            field="expected_date",
            code="expected_date_in_past",
        )
    return quantity


@transaction.atomic
def inbound_create(
    *, by, material: Material, quantity: Decimal, expected_date: date, confirmed: bool = True, note: str = ""
) -> Inbound:
    quantity = _check_inbound(quantity=quantity, expected_date=expected_date)
    inbound = Inbound(
        material=material,
        quantity=quantity,
        expected_date=expected_date,
        confirmed=confirmed,
        note=note,
        created_by=by,
    )
    history_as(inbound, by=by)
    inbound.save()
    coverage_recheck_enqueue(material_ids=[material.pk])
    return inbound


INBOUND_EDITABLE = ("quantity", "expected_date", "confirmed", "note")


@transaction.atomic
def inbound_update(*, inbound: Inbound, by, **changes) -> Inbound:
    """Change quantity, expected date, confirmation or note of an inbound receipt."""
    unknown = set(changes) - set(INBOUND_EDITABLE)
    if unknown:
        raise InvalidInput(
            f"Cannot change {', '.join(sorted(unknown))}.", field=sorted(unknown)[0], code="field_not_editable"
        )
    inbound = Inbound.objects.select_for_update().get(pk=inbound.pk)
    for name, value in changes.items():
        setattr(inbound, name, value)
    if "quantity" in changes or "expected_date" in changes:
        inbound.quantity = _check_inbound(quantity=inbound.quantity, expected_date=inbound.expected_date)
    history_as(inbound, by=by)
    inbound.save(update_fields=list(changes) or None)
    coverage_recheck_enqueue(material_ids=[inbound.material_id])
    return inbound


@transaction.atomic
def inbound_delete(*, inbound: Inbound, by) -> None:
    """Remove an inbound receipt that will not come (its history row keeps the record)."""
    history_as(inbound, by=by)
    material_id = inbound.material_id
    inbound.delete()
    coverage_recheck_enqueue(material_ids=[material_id])
