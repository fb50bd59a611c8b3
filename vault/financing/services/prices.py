"""Market prices of the materials: one at a time, a CSV import, a removal.

Guarantees: one price per material, day and source (a unique constraint; a single price that
exists is refused with 409, an import updates it); a price is not negative; an import is all
or nothing, a bad row named by its line. Nothing stored depends on a price: the valuation
reads them when asked."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date as date_type
from decimal import Decimal

from django.db import transaction

from vault.accounts.models import User
from vault.core.errors import Conflict, InvalidInput
from vault.financing.models import PricePoint
from vault.financing.parsing import PriceKey, parse_price, price_rows_parse
from vault.inventory.models import Material


@dataclass(frozen=True)
class PriceImport:
    created: int
    updated: int


@transaction.atomic
def price_point_create(
    *, material: Material, date: date_type, usd_per_kg: Decimal, source: str, by: User
) -> PricePoint:
    """Record one market price; one per material, day and source (409 `price_exists`), its
    source named (`source_required`)."""
    price = parse_price(usd_per_kg)
    if not source.strip():
        raise InvalidInput(
            "Name the source of the price (an assessment, a quote).", field="source", code="source_required"
        )
    if PricePoint.objects.filter(material=material, date=date, source=source.strip()).exists():
        raise Conflict(f"{material.code} already has a {source} price on {date}.", field="date", code="price_exists")
    return PricePoint.objects.create(
        material=material, date=date, usd_per_kg=price, source=source.strip(), created_by=by
    )


@transaction.atomic
def price_point_delete(*, price_point: PricePoint, by: User) -> None:
    """Remove a market price recorded by mistake (the admin's delete). `by` is who removes it
    (the admin logs it)."""
    PricePoint.objects.filter(pk=price_point.pk).delete()


@transaction.atomic
def price_points_import(*, text: str, by: User | None, default_source: str = "") -> PriceImport:
    """Import prices from CSV text with a header `material,date,usd_per_kg,source` (source may
    be omitted when `default_source` is given). All or nothing: any bad row raises InvalidInput
    (field `file`) listing the line numbers (`vault.financing.parsing.price_rows_parse`); a row
    for an existing material, day and source updates its price. `by` is None for the
    `import_prices` command, which runs as no user."""
    materials = dict(Material.objects.values_list("code", "pk"))
    parsed = price_rows_parse(text, materials=materials, default_source=default_source)
    updated = len(_existing(parsed.keys()) & parsed.keys())
    PricePoint.objects.bulk_create(
        [
            PricePoint(material_id=m, date=d, source=s, usd_per_kg=price, created_by=by)
            for (m, d, s), price in parsed.items()
        ],
        update_conflicts=True,
        unique_fields=["material", "date", "source"],
        update_fields=["usd_per_kg"],
    )
    return PriceImport(created=len(parsed) - updated, updated=updated)


def _existing(keys: Collection[PriceKey]) -> set[PriceKey]:
    """The keys of the prices already recorded for the materials and days of `keys`."""
    recorded = PricePoint.objects.filter(material_id__in={k[0] for k in keys}, date__in={k[1] for k in keys})
    return set(recorded.values_list("material_id", "date", "source"))
