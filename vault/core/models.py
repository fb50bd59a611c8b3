from django.db import models


class OutboxMessage(models.Model):
    """A Celery task to run once, written in the same transaction as the change that calls for it.

    Sent on commit; if the broker is down then, `outbox_drain` (periodic) sends it later. The task
    body runs at most once: it locks this row and marks `done_at` in its own transaction."""

    task = models.CharField(max_length=200)
    kwargs = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["done_at", "sent_at"], name="outbox_pending_idx")]

    def __str__(self) -> str:
        return f"{self.task}#{self.pk}"
