"""Deleting old rows without a long transaction (the periodic prune tasks)."""

from django.db.models import QuerySet


def delete_in_batches(queryset: QuerySet, *, batch_size: int = 1000) -> int:
    """Delete every row of `queryset`, `batch_size` rows (lowest ids first) per statement, each
    batch committed on its own when called outside a transaction: no long lock and no huge
    transaction, and a run cut short (a time limit) keeps what it deleted. Returns the number of
    rows of the queryset's model deleted."""
    model = queryset.model
    deleted = 0
    while True:
        ids = list(queryset.order_by("pk").values_list("pk", flat=True)[:batch_size])
        if not ids:
            return deleted
        _, per_model = model._base_manager.filter(pk__in=ids).delete()
        batch = per_model.get(model._meta.label, 0)
        if not batch:  # deleted meanwhile by another run: nothing left to do here
            return deleted
        deleted += batch
