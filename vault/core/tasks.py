"""Core's periodic tasks (beat schedule in the settings): the outbox's drain and its pruning."""

from celery import shared_task

from vault.core import outbox
from vault.core.outbox import outbox_drain

__all__ = ["outbox_drain", "outbox_prune"]


@shared_task(name="vault.core.tasks.outbox_prune", acks_late=True)
def outbox_prune() -> int:
    """Beat schedule `outbox-prune-daily`: delete old done (and long-dead) messages; safe to rerun."""
    return outbox.outbox_prune()
