"""Transactional outbox for Celery side effects.

`outbox_enqueue("vault.x.tasks.notify", request_id=1)` inside a transaction stores the call; on
commit it is sent to the broker. A broker outage loses nothing: `outbox_drain` resends what was
not run. Tasks decorated with `@outbox_task` commit their body's database writes at most once
per message, whatever the number of deliveries (a row lock and `done_at`, in the body's
transaction). An e-mail sent by the body is at least once: if the worker dies after handing it
to the mail server and before the commit, the redelivery sends it again."""

from __future__ import annotations

import functools
import logging
from datetime import timedelta

from celery import current_app, shared_task
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from vault.core.models import OutboxMessage

log = logging.getLogger(__name__)
RESEND_AFTER = timedelta(minutes=2)


def _send(message_id: int, task: str) -> bool:
    try:
        current_app.send_task(task, kwargs={"outbox_id": message_id}, retry=False)
    except Exception as exc:  # noqa: BLE001 - any broker failure: the drain task retries later
        log.warning("outbox %s: broker unavailable (%s); left for outbox_drain", message_id, exc)
        OutboxMessage.objects.filter(pk=message_id).update(attempts=F("attempts") + 1, last_error=str(exc)[:500])
        return False
    OutboxMessage.objects.filter(pk=message_id).update(sent_at=timezone.now(), attempts=F("attempts") + 1)
    return True


def outbox_enqueue(task: str, **kwargs) -> OutboxMessage:
    """Store a task call with the current transaction; send it to the broker once committed."""
    message = OutboxMessage.objects.create(task=task, kwargs=kwargs)
    if current_app.conf.task_always_eager:
        transaction.on_commit(functools.partial(_run_eager, message.pk, task))
    else:
        transaction.on_commit(functools.partial(_send, message.pk, task))
    return message


def _run_eager(message_id: int, task: str) -> None:
    current_app.tasks[task].apply(kwargs={"outbox_id": message_id}, throw=True)


def outbox_task(**task_options):
    """Decorate `fn(**kwargs)` as a Celery task taking `outbox_id`; runs at most once per message."""

    def decorator(fn):
        @shared_task(name=f"{fn.__module__}.{fn.__name__}", acks_late=True, **task_options)
        @functools.wraps(fn)
        def run(outbox_id: int):
            with transaction.atomic():
                message = OutboxMessage.objects.select_for_update().filter(pk=outbox_id).first()
                if message is None or message.done_at is not None:
                    return None
                result = fn(**message.kwargs)
                message.done_at = timezone.now()
                message.save(update_fields=["done_at"])
                return result

        return run

    return decorator


@shared_task(name="vault.core.outbox.outbox_drain", acks_late=True)
def outbox_drain(limit: int = 500) -> int:
    """Send messages never sent (broker was down) or sent long ago and still not done."""
    stale = timezone.now() - RESEND_AFTER
    pending = (
        OutboxMessage.objects.filter(done_at__isnull=True)
        .filter(Q(sent_at__isnull=True) | Q(sent_at__lt=stale))
        .order_by("id")
        .values_list("pk", "task")[:limit]
    )
    return sum(_send(pk, task) for pk, task in list(pending))
