"""Helpers shared by the coverage services."""

from __future__ import annotations

from vault.inventory.models import Material


def materials_lock(material_ids: list[int] | None) -> None:
    """Lock the materials' rows (all when None) in primary-key order, FOR NO KEY UPDATE: a
    check or a forecast upload of the same materials queues behind this one, stock movements
    (which only reference the rows) do not."""
    locked = Material.objects.select_for_update(no_key=True).order_by("pk")
    list((locked if material_ids is None else locked.filter(pk__in=material_ids)).values_list("pk", flat=True))
