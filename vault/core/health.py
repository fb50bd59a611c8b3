"""Liveness and readiness (docs/operations.md).

`/healthz` says the process answers and touches nothing. `/readyz` runs every readiness check
and names each one that failed: the database, the cache, the Celery broker, unapplied
migrations, and an outbox message that has not reached the broker, or not been run after
reaching it, for longer than `VAULT_READY_OUTBOX_MAX_AGE_SECONDS` (the broker, the workers or
beat are not keeping up).

`ProbeMiddleware`, placed before Django's host validation, answers the probe and metrics URLs
whatever the `Host` header: kubelets, load balancers and Prometheus address a pod by its IP.
Those responses build no absolute URL and are never cached, so the header cannot poison them."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass

from celery import current_app
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.db.models import Count, Min
from django.db.models.functions import Coalesce
from django.urls import get_script_prefix, resolve, reverse
from django.utils import timezone

from vault.core.models import OutboxMessage

log = logging.getLogger(__name__)

EARLY_URL_NAMES = ("healthz", "readyz", "metrics")
ERROR_CHARS = 300
CACHE_KEY = "vault:readyz"

Result = dict[str, object]


class CheckFailed(Exception):
    """A dependency answered, but not as readiness requires; `details` go into the check's result."""

    def __init__(self, message: str, details: Result | None = None):
        super().__init__(message)
        self.message = message
        self.details = details or {}


def _check_database() -> Result:
    connection.ensure_connection()
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return {}


def _check_cache() -> Result:
    # A write and a read back: throttles and login lockouts need both.
    token = timezone.now().isoformat()
    cache.set(CACHE_KEY, token, timeout=30)
    if cache.get(CACHE_KEY) != token:
        raise CheckFailed("the value written was not read back")
    return {}


def _check_broker() -> Result:
    timeout = settings.VAULT_READY_BROKER_TIMEOUT_SECONDS
    with current_app.connection_for_write(connect_timeout=timeout) as conn:
        # One attempt, no sleep between retries; kombu takes a float timeout (its stubs say int).
        conn.ensure_connection(max_retries=0, timeout=timeout)  # type: ignore[arg-type]
        return {"transport": conn.transport_cls}


def _check_migrations() -> Result:
    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if plan:
        names = ", ".join(f"{migration.app_label}.{migration.name}" for migration, _ in plan[:5])
        raise CheckFailed(f"{len(plan)} unapplied: {names}" + (", ..." if len(plan) > 5 else ""))
    return {}


def _check_outbox() -> Result:
    backlog = outbox_backlog()
    details: dict[str, object] = {
        "pending": backlog.pending,
        "dead": backlog.dead,
        "longest_wait_seconds": round(backlog.longest_wait, 1),
    }
    limit = settings.VAULT_READY_OUTBOX_MAX_AGE_SECONDS
    if 0 < limit < backlog.longest_wait:  # 0: reported, never failed
        message = f"a message has waited {backlog.longest_wait:.0f} s for the broker or a worker (limit {limit} s)"
        raise CheckFailed(message, details)
    return details


@dataclass(frozen=True)
class OutboxBacklog:
    """`pending`: messages not done and not dead (pending or sent), waiting for a worker. `dead`:
    given up on, waiting for a person (docs/operations.md). `oldest_age`: seconds since the oldest
    pending message was written. `longest_wait`: the longest any pending message has gone since it
    last reached the broker (since it was written, if never sent): it grows while the broker is down
    or no worker or beat drains the outbox, not while a failing task is resent (that one ends dead,
    and a pod restart would not help it). Both ages are 0 when nothing is pending."""

    pending: int
    dead: int
    oldest_age: float
    longest_wait: float


def outbox_backlog() -> OutboxBacklog:
    """The outbox's backlog, in one query."""
    waiting = (
        OutboxMessage.STATE_FILTERS[OutboxMessage.State.PENDING] | OutboxMessage.STATE_FILTERS[OutboxMessage.State.SENT]
    )
    row = OutboxMessage.objects.filter(done_at__isnull=True).aggregate(
        pending=Count("id", filter=waiting),
        dead=Count("id", filter=OutboxMessage.STATE_FILTERS[OutboxMessage.State.DEAD]),
        oldest=Min("created_at", filter=waiting),
        last_reached=Min(Coalesce("sent_at", "created_at"), filter=waiting),
    )
    now = timezone.now()

    def since(moment) -> float:
        return max((now - moment).total_seconds(), 0.0) if moment else 0.0

    return OutboxBacklog(row["pending"], row["dead"], since(row["oldest"]), since(row["last_reached"]))


# The checks in the order they run; those after the database need it.
CHECKS: dict[str, Callable[[], Result]] = {
    "database": _check_database,
    "cache": _check_cache,
    "broker": _check_broker,
    "migrations": _check_migrations,
    "outbox": _check_outbox,
}
NEEDS_DATABASE = frozenset({"migrations", "outbox"})


def readiness() -> tuple[bool, dict[str, Result]]:
    """Run every check; (all passed, {check: {"ok": bool, "error"?: str, details...}}). A check
    never raises: its exception becomes its `error`, logged here with the traceback."""
    results: dict[str, Result] = {}
    for name, check in CHECKS.items():
        if name in NEEDS_DATABASE and not results["database"]["ok"]:
            results[name] = {"ok": False, "error": "not checked: the database is unavailable"}
            continue
        try:
            results[name] = {"ok": True, **check()}
        except Exception as exc:  # noqa: BLE001 - any failure of a dependency makes the process unready
            log.warning("readiness check %s failed", name, exc_info=True)
            if isinstance(exc, CheckFailed):
                message, details = exc.message, exc.details
            else:
                message, details = f"{type(exc).__name__}: {exc}", {}
            results[name] = {"ok": False, "error": message[:ERROR_CHARS], **details}
    return all(result["ok"] for result in results.values()), results


@functools.cache
def _early_paths() -> frozenset[str]:
    """The URLs' paths as `request.path_info` has them: without the script prefix (SCRIPT_NAME)."""
    prefix = get_script_prefix()
    return frozenset("/" + reverse(name).removeprefix(prefix) for name in EARLY_URL_NAMES)


class ProbeMiddleware:
    """Answers `/healthz`, `/readyz` and `/metrics` before host validation, the HTTPS redirect,
    sessions and the rest: place it before SecurityMiddleware and CommonMiddleware. Every other
    path goes on through the stack unchanged."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path_info in _early_paths():
            return resolve(request.path_info).func(request)
        return self.get_response(request)
