"""Notification tasks, enqueued by the services through the outbox (vault.core.outbox): each
message's body runs at most once, however many times the broker delivers it; and the hourly
pruning of old Idempotency-Keys."""

from celery import shared_task

from vault.core.outbox import outbox_task
from vault.drawdowns import idempotency, notifications


@outbox_task()
def notify_status_changed(request_id: int, transition_id: int) -> int:
    return notifications.status_changed_send(transition_id=transition_id)


@outbox_task()
def notify_managers_submitted(request_id: int) -> int:
    return notifications.submitted_send(request_id=request_id)


@shared_task(name="vault.drawdowns.tasks.idempotency_keys_prune", acks_late=True)
def idempotency_keys_prune() -> int:
    """Beat schedule `idempotency-keys-prune-hourly`; safe to rerun."""
    return idempotency.idempotency_keys_prune()
