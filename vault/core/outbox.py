"""Transactional outbox for Celery side effects.

`outbox_enqueue("vault.x.tasks.notify", request_id=1)` inside a transaction stores the call; on
commit it is sent to the broker. A broker outage loses nothing: `outbox_drain` resends what was
not run. Tasks decorated with `@outbox_task` commit their body's database writes at most once
per message, whatever the number of deliveries (a row lock and `done_at`, in the body's
transaction). An e-mail sent by the body is at least once: if the worker dies after handing it
to the mail server and before the commit, the redelivery sends it again.

Every send counts as an attempt (one on commit, one per resend). A message still not done when
it is due for a resend after `VAULT_OUTBOX_MAX_ATTEMPTS` attempts is dead: logged at ERROR, no
longer resent, shown in the admin, where "Resend" (`outbox_resend`) revives it. `outbox_prune`
deletes done messages, and dead ones never resent, `VAULT_OUTBOX_RETENTION_DAYS` after the fact.

A message keeps the `request_id` of the request that enqueued it; the task body runs with it
(and `outbox_id`) bound in structlog's context, so its log lines name the request, even when
`outbox_drain` sent it."""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterable
from contextlib import suppress
from datetime import datetime, timedelta

import structlog
from celery import current_app, shared_task
from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.db import DatabaseError, transaction
from django.db.models import F, Q
from django.utils import timezone

from vault.core.models import OutboxMessage
from vault.core.retention import delete_in_batches

log = logging.getLogger(__name__)
RESEND_AFTER = timedelta(minutes=2)
ERROR_LENGTH = 500


def _send(message_id: int, task: str, request_id: str = "") -> bool:
    """Hand the message to the broker. A resend carries the enqueuing request's id in the task's
    headers (django-structlog binds it in the worker), as the send on commit does."""
    try:
        with structlog.contextvars.bound_contextvars(**({"request_id": request_id} if request_id else {})):
            current_app.send_task(task, kwargs={"outbox_id": message_id}, retry=False)
    except Exception as exc:  # noqa: BLE001 - any broker failure: the drain task retries later
        log.warning("outbox %s: broker unavailable (%s); left for outbox_drain", message_id, exc)
        OutboxMessage.objects.filter(pk=message_id).update(
            attempts=F("attempts") + 1, last_error=str(exc)[:ERROR_LENGTH]
        )
        return False
    OutboxMessage.objects.filter(pk=message_id).update(sent_at=timezone.now(), attempts=F("attempts") + 1)
    return True


def _run_eager(message_id: int, task: str) -> None:
    current_app.tasks[task].apply(kwargs={"outbox_id": message_id}, throw=True)


def _dispatch_on_commit(message_id: int, task: str) -> None:
    run = _run_eager if current_app.conf.task_always_eager else _send
    transaction.on_commit(functools.partial(run, message_id, task))


# Every @outbox_task by name: what outbox_enqueue accepts. An app's tasks module is imported
# by its AppConfig.ready, so the registry is full wherever Django runs (web, worker, tests).
OUTBOX_TASKS: dict[str, object] = {}


def outbox_enqueue(task: str, **kwargs) -> OutboxMessage:
    """Store a task call with the current transaction; send it to the broker once committed.
    `task` must name an @outbox_task (LookupError otherwise, nothing stored): a renamed or
    removed task fails where it is enqueued, not later in a worker."""
    if task not in OUTBOX_TASKS:
        raise LookupError(f"{task!r} is not an @outbox_task (is its app's tasks module imported in AppConfig.ready?)")
    request_id = str(structlog.contextvars.get_contextvars().get("request_id") or "")
    message = OutboxMessage.objects.create(task=task, kwargs=kwargs, request_id=request_id[:100])
    _dispatch_on_commit(message.pk, task)
    return message


def _record_failure(message_id: int, exc: BaseException) -> None:
    """Keep why the body failed (its transaction rolled back) for the admin's "last error"."""
    with suppress(DatabaseError):  # the database itself may be what failed: never hide `exc`
        OutboxMessage.objects.filter(pk=message_id, done_at__isnull=True).update(
            last_error=f"{type(exc).__name__}: {exc}"[:ERROR_LENGTH]
        )


def _log_context(message_id: int, request_id: str) -> dict:
    """What a message's log lines carry: its id and, when it came from a request, that request's id."""
    return {"outbox_id": message_id, **({"request_id": request_id} if request_id else {})}


def outbox_task(**task_options):
    """Decorate `fn(**kwargs)` as a Celery task taking `outbox_id`; runs at most once per message."""

    def decorator(fn):
        @shared_task(name=f"{fn.__module__}.{fn.__name__}", acks_late=True, **task_options)
        @functools.wraps(fn)
        def run(outbox_id: int):
            try:
                with transaction.atomic():
                    message = OutboxMessage.objects.select_for_update().filter(pk=outbox_id).first()
                    if message is None or message.done_at is not None:
                        return None
                    if message.task != run.name:
                        # A broker message older than the row it names (a database restored
                        # under a live broker reuses ids): never run one task's arguments as another.
                        log.warning("outbox %s is a %s, not a %s: ignored", message.pk, message.task, run.name)
                        return None
                    with structlog.contextvars.bound_contextvars(**_log_context(message.pk, message.request_id)):
                        result = fn(**message.kwargs)
                        log.info("outbox message %s done: %s", message.pk, message.task)
                    message.done_at = timezone.now()
                    message.save(update_fields=["done_at"])
                    return result
            except Exception as exc:
                _record_failure(outbox_id, exc)
                raise

        OUTBOX_TASKS[run.name] = run
        return run

    return decorator


def _due_for_resend():
    """Not done, not dead, and never sent (the broker was down) or sent long ago."""
    stale = timezone.now() - RESEND_AFTER
    return OutboxMessage.objects.filter(done_at__isnull=True, dead_at__isnull=True).filter(
        Q(sent_at__isnull=True) | Q(sent_at__lt=stale)
    )


def _bury(limit: int) -> int:
    """Mark dead the messages due for a resend that have used up their attempts. A message whose
    body is running now (its row locked by the task) is skipped: it may yet finish."""
    max_attempts = settings.VAULT_OUTBOX_MAX_ATTEMPTS
    with transaction.atomic():
        rows = list(
            _due_for_resend()
            .filter(attempts__gte=max_attempts)
            .select_for_update(skip_locked=True)
            .order_by("id")
            .values_list("pk", "task", "attempts", "request_id", "last_error")[:limit]
        )
        OutboxMessage.objects.filter(pk__in=[row[0] for row in rows]).update(dead_at=timezone.now())
    for pk, task, attempts, request_id, last_error in rows:
        with structlog.contextvars.bound_contextvars(**_log_context(pk, request_id)):
            log.error(
                "outbox %s (%s) is dead: not done after %s attempts; last error: %s. "
                "It is no longer resent: fix the cause, then resend it from the admin.",
                pk,
                task,
                attempts,
                last_error or "none recorded",
            )
    return len(rows)


@shared_task(name="vault.core.outbox.outbox_drain", acks_late=True)
def outbox_drain(limit: int = 500) -> int:
    """Send messages never sent (broker was down) or sent long ago and still not done; those
    out of attempts go dead instead. Stops at the first broker failure (the next drain goes on),
    so an outage costs one attempt of one message, not of every message. Returns the number sent."""
    _bury(limit)
    pending = (
        _due_for_resend()
        .filter(attempts__lt=settings.VAULT_OUTBOX_MAX_ATTEMPTS)
        .order_by("id")
        .values_list("pk", "task", "request_id")[:limit]
    )
    sent = 0
    for pk, task, request_id in list(pending):
        if not _send(pk, task, request_id):
            break
        sent += 1
    return sent


def outbox_resend(*, ids: Iterable[int], by: AbstractBaseUser) -> list[int]:
    """Revive the dead messages among `ids`: `dead_at` cleared, `attempts` back to 0, sent again
    once the transaction commits (as on enqueue; if the broker is down, the drain sends them).
    Messages that are not dead are left alone. Returns the ids revived, in order."""
    with transaction.atomic():
        rows = list(
            OutboxMessage.objects.in_state(OutboxMessage.State.DEAD)
            .filter(pk__in=list(ids))
            .select_for_update()
            .order_by("id")
            .values_list("pk", "task")
        )
        revived = [pk for pk, _ in rows]
        OutboxMessage.objects.filter(pk__in=revived).update(dead_at=None, sent_at=None, attempts=0)
        for pk, task in rows:
            _dispatch_on_commit(pk, task)
    if revived:
        log.info("outbox: %s resent dead messages %s", by.get_username(), revived)
    return revived


def outbox_prune(*, now: datetime | None = None, batch_size: int = 1000) -> int:
    """Delete the messages done more than `VAULT_OUTBOX_RETENTION_DAYS` ago, and the dead ones
    nobody resent in as long after they died. Pending and sent messages are never deleted.
    Returns the number deleted."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.VAULT_OUTBOX_RETENTION_DAYS)
    done = delete_in_batches(OutboxMessage.objects.filter(done_at__lt=cutoff), batch_size=batch_size)
    dead = delete_in_batches(
        OutboxMessage.objects.in_state(OutboxMessage.State.DEAD).filter(dead_at__lt=cutoff), batch_size=batch_size
    )
    if dead:
        log.warning("outbox: deleted %s dead messages never resent (dead before %s)", dead, cutoff.isoformat())
    return done + dead
