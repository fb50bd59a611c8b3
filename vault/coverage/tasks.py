"""Coverage tasks. Thin: each loads ids and calls a service. All are idempotent and safe to
retry (`acks_late`): a check writes its run and snapshots in one transaction, so a worker
killed in the middle leaves nothing, and a redelivered message simply computes again."""

from typing import TypedDict

from celery import shared_task
from django.db import DatabaseError

from vault.core.outbox import outbox_task
from vault.coverage import services
from vault.inventory.models import Material


class RetryOptions(TypedDict):
    autoretry_for: tuple[type[BaseException], ...]
    retry_backoff: bool
    max_retries: int


# A database that fails (a restart, a failover) is retried with backoff, five times.
RETRY: RetryOptions = {"autoretry_for": (DatabaseError,), "retry_backoff": True, "max_retries": 5}


@shared_task(name="vault.coverage.tasks.coverage_check_all", acks_late=True, **RETRY)
def coverage_check_all() -> int:
    """The daily check of every material (beat schedule `coverage-check-daily`)."""
    return services.coverage_check(trigger="schedule").pk


@shared_task(name="vault.coverage.tasks.coverage_check_material", acks_late=True, **RETRY)
def coverage_check_material(material_id: int) -> int | None:
    """Recheck one material; a material that no longer exists is skipped."""
    if not Material.objects.filter(pk=material_id).exists():
        return None
    return services.coverage_check(material_ids=[material_id], trigger="recheck").pk


@outbox_task(**RETRY)
def coverage_recheck(*, material_ids: list[int]) -> int | None:
    """Outbox entry point (`vault.coverage.tasks.coverage_recheck`): a recheck asked for by a
    large stock change, an approved drawdown, a forecast upload or an inbound change."""
    ids = list(Material.objects.filter(pk__in=material_ids).values_list("pk", flat=True))
    if not ids:
        return None
    return services.coverage_check(material_ids=ids, trigger="recheck").pk


@outbox_task(**RETRY)
def alerts_notify(*, alert_ids: list[int]) -> int:
    """E-mail managers about newly opened alerts (once per message, see vault.core.outbox)."""
    return services.alerts_notify(alert_ids=alert_ids)
