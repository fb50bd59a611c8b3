from django.db import models


class Seal(models.Model):
    """One link of a hash chain over an append-only stream an app registers (journal entries with
    their lines, stock movements): the SHA-256 of the previous link's digest and of every row with an id in
    `first_id`..`last_id`, as the rows were when sealed (`vault.integrity.chain`). Append-only
    (PostgreSQL triggers, TRUNCATE refused). `vault_check` recomputes every link from the rows:
    a row edited, deleted or inserted behind the application's back, even with the triggers off,
    breaks its link."""

    stream = models.CharField(max_length=16, help_text="The stream an app registered: journal, movements.")
    first_id = models.BigIntegerField()
    last_id = models.BigIntegerField()
    rows = models.PositiveIntegerField()
    previous_digest = models.CharField(max_length=64, blank=True)
    digest = models.CharField(max_length=64)
    sealed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["stream", "last_id"]
        constraints = [
            models.UniqueConstraint(fields=["stream", "first_id"], name="seal_one_link_per_start"),
            models.CheckConstraint(name="seal_range_ordered", condition=models.Q(first_id__lte=models.F("last_id"))),
        ]

    def __str__(self) -> str:
        return f"{self.stream} {self.first_id}–{self.last_id} {self.digest[:12]}"
