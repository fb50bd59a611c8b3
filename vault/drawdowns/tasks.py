"""Notification tasks, enqueued by the services through the outbox (vault.core.outbox): each
message's body runs at most once, however many times the broker delivers it."""

from vault.core.outbox import outbox_task
from vault.drawdowns import notifications


@outbox_task()
def notify_status_changed(request_id: int, transition_id: int) -> int:
    return notifications.status_changed_send(transition_id=transition_id)


@outbox_task()
def notify_managers_submitted(request_id: int) -> int:
    return notifications.submitted_send(request_id=request_id)
