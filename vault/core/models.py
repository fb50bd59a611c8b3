from django.db import models
from django.db.models import Q


class OutboxQuerySet(models.QuerySet):
    def in_state(self, state: str) -> "OutboxQuerySet":
        """The messages whose `state` is `state` (the same rule as `OutboxMessage.state`)."""
        return self.filter(OutboxMessage.STATE_FILTERS[state])


class OutboxMessage(models.Model):
    """A Celery task to run once, written in the same transaction as the change that calls for it.

    Sent on commit; if the broker is down then, `outbox_drain` (periodic) sends it later. The task
    body runs at most once: it locks this row and marks `done_at` in its own transaction. A message
    still not done after `VAULT_OUTBOX_MAX_ATTEMPTS` sends is dead (`dead_at`): no longer resent
    until someone resends it from the admin. `request_id` is the id of the request that enqueued it
    (django-structlog's), bound to the task's log lines."""

    class State(models.TextChoices):
        PENDING = "pending", "Pending"  # not sent yet (the broker was down), or revived
        SENT = "sent", "Sent"  # handed to the broker, not done yet
        DONE = "done", "Done"
        DEAD = "dead", "Dead"  # gave up after too many attempts: needs a person

    # Precedence: done (whatever happened before), dead, sent, pending.
    STATE_FILTERS: dict[str, Q] = {
        State.DONE: Q(done_at__isnull=False),
        State.DEAD: Q(done_at__isnull=True, dead_at__isnull=False),
        State.SENT: Q(done_at__isnull=True, dead_at__isnull=True, sent_at__isnull=False),
        State.PENDING: Q(done_at__isnull=True, dead_at__isnull=True, sent_at__isnull=True),
    }

    task = models.CharField(max_length=200)
    kwargs = models.JSONField(default=dict)
    request_id = models.CharField(
        "HTTP request id",
        max_length=100,
        blank=True,
        default="",
        help_text="The id django-structlog gave the request that enqueued it (in its logs); blank outside requests.",
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    dead_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)

    objects = OutboxQuerySet.as_manager()

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["done_at", "sent_at"], name="outbox_pending_idx")]

    def __str__(self) -> str:
        return f"{self.task}#{self.pk}"

    @property
    def state(self) -> str:
        if self.done_at is not None:
            return self.State.DONE
        if self.dead_at is not None:
            return self.State.DEAD
        if self.sent_at is not None:
            return self.State.SENT
        return self.State.PENDING
