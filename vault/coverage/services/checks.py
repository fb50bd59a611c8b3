"""Coverage checks: a run, its snapshots and the alerts they open or resolve.

Guarantees: `coverage_check` writes a run and its complete snapshot set in one transaction (a
worker killed in the middle leaves nothing), reads its inputs in a fixed number of queries
whatever the number of materials, and opens or resolves alerts idempotently: at most one open
alert per material and level (a partial unique constraint in the database), resolved when
coverage recovers. Concurrent checks of the same materials queue on the materials' row locks."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import fields
from datetime import date, datetime
from decimal import Decimal

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from vault.accounts.models import User
from vault.accounts.roles import Role
from vault.core.outbox import outbox_enqueue
from vault.coverage.domain import Status
from vault.coverage.models import Alert, CoverageRun, CoverageSnapshot
from vault.coverage.selectors import Figures, coverage_inputs, figures_for
from vault.coverage.services._common import materials_lock

RECHECK_TASK = "vault.coverage.tasks.coverage_recheck"
NOTIFY_TASK = "vault.coverage.tasks.alerts_notify"

# Figures a snapshot stores under the same name; the material and the concentration are stored apart.
_SNAPSHOT_FIELDS = tuple(f.name for f in fields(Figures) if f.name not in {"material", "concentration"})
_ALERT_LEVEL = {Status.BREACH: Alert.Level.BREACH, Status.WARNING: Alert.Level.WARNING}


def _shares_json(shares: Mapping[str, Decimal]) -> dict[str, str]:
    return {country: str(share) for country, share in shares.items()}


def snapshot_build(*, run: CoverageRun, figures: Figures, now: datetime) -> CoverageSnapshot:
    """The snapshot of `figures` in `run`, unsaved (the check stores them in bulk)."""
    c = figures.concentration
    return CoverageSnapshot(
        run=run,
        computed_at=now,
        as_of=run.as_of,
        **{name: getattr(figures, name) for name in _SNAPSHOT_FIELDS},
        mining_shares=_shares_json(c.mining),
        processing_shares=_shares_json(c.processing),
        china_mining_share=c.china_mining,
        china_processing_share=c.china_processing,
        concentration_flagged=c.flagged,
    )


def _alerts_sync(*, run: CoverageRun, figures: list[Figures], now: datetime) -> tuple[list[int], int]:
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
        # reflects the latest committed stock.
        materials_lock(ids)
        figures = figures_for(coverage_inputs(today=today, material_ids=ids), today=today)
        now = timezone.now()
        run = CoverageRun.objects.create(
            started_at=started,
            finished_at=now,
            as_of=today,
            trigger=trigger[:40],
            material_count=len(figures),
        )
        CoverageSnapshot.objects.bulk_create(
            [snapshot_build(run=run, figures=f, now=now) for f in figures], batch_size=2000
        )
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


def _alerts_mail(alerts: list[Alert]) -> tuple[str, str]:
    """Subject and body of the mail about newly opened `alerts`."""
    lines = []
    for alert in alerts:
        days = "unbounded" if alert.forward_days is None else f"{alert.forward_days} days"
        lines.append(f"- {alert.material.code}: {alert.get_level_display()}, {days} (target {alert.target_days})")
    breaches = sum(a.level == Alert.Level.BREACH for a in alerts)
    subject = f"Vault coverage: {len(alerts)} alert(s) opened" + (f", {breaches} breach" if breaches else "")
    body = "Forward coverage fell below target or into the warning band:\n\n" + "\n".join(lines)
    return subject, body


def alerts_notify(*, alert_ids: list[int]) -> int:
    """E-mail active managers about newly opened alerts, each alert once (it is marked notified
    even when no manager has an address); returns the number of alerts sent."""
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
        subject, body = _alerts_mail(alerts)
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, recipients, fail_silently=False)
    Alert.objects.filter(pk__in=[a.pk for a in alerts]).update(notified_at=timezone.now())
    return len(alerts)
