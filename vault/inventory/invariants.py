"""Inventory's part of the integrity checks: stock movements are a stream of the hash chain
(vault.integrity.chain)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from django.db.models import Max

from vault.integrity.chain import BATCH, row_text, stream_register
from vault.inventory.models import Movement

MOVEMENT_FIELDS = (
    "id",
    "kind",
    "lot_id",
    "material_id",
    "site_id",
    "quantity",
    "balance_after",
    "value",
    "reason",
    "reference",
    "counterpart_id",
    "reverses_id",
    "business_date",
    "created_at",
    "created_by_id",
)


def movement_rows(first_id: int, last_id: int) -> Iterator[tuple[int, str]]:
    for start in range(first_id, last_id + 1, BATCH):
        end = min(start + BATCH - 1, last_id)
        for movement in Movement.objects.filter(id__range=(start, end)).order_by("id").values_list(*MOVEMENT_FIELDS):
            yield movement[0], row_text(movement)


def movement_last_id_before(moment: datetime) -> int | None:
    return Movement.objects.filter(created_at__lt=moment).aggregate(last=Max("id"))["last"]


stream_register("movements", rows=movement_rows, last_id_before=movement_last_id_before)
