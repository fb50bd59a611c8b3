"""Inbound receipts: confirmed future deliveries the forward walk counts from their expected
date. Guarantees: a receipt has a positive quantity and an expected date not in the past;
every change leaves a history row naming who made it and asks for a recheck of the material
after commit."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from vault.accounts.models import User
from vault.core.errors import InvalidInput
from vault.core.history import history_as
from vault.core.numbers import parse_quantity
from vault.coverage.models import Inbound
from vault.coverage.services.checks import coverage_recheck_enqueue
from vault.inventory.models import Material

INBOUND_EDITABLE = ("quantity", "expected_date", "confirmed", "note")


def _check_inbound(*, quantity: Decimal, expected_date: date) -> Decimal:
    quantity = parse_quantity(quantity)
    if expected_date < timezone.localdate():
        raise InvalidInput(
            "Inbound is a future receipt: the expected date cannot be in the past.",
            field="expected_date",
            code="expected_date_in_past",
        )
    return quantity


@transaction.atomic
def inbound_create(
    *, by: User, material: Material, quantity: Decimal, expected_date: date, confirmed: bool = True, note: str = ""
) -> Inbound:
    """Record a future receipt of `material`. Raises a quantity's error or `expected_date_in_past`."""
    inbound = Inbound(
        material=material,
        quantity=_check_inbound(quantity=quantity, expected_date=expected_date),
        expected_date=expected_date,
        confirmed=confirmed,
        note=note,
        created_by=by,
    )
    history_as(inbound, by=by)
    inbound.save()
    coverage_recheck_enqueue(material_ids=[material.pk])
    return inbound


@transaction.atomic
def inbound_update(*, inbound: Inbound, by: User, **changes: Any) -> Inbound:
    """Change quantity, expected date, confirmation or note of an inbound receipt (under its row
    lock). Raises `field_not_editable` for any other field, and the rules of `inbound_create`."""
    unknown = set(changes) - set(INBOUND_EDITABLE)
    if unknown:
        raise InvalidInput(
            f"Cannot change {', '.join(sorted(unknown))}.", field=sorted(unknown)[0], code="field_not_editable"
        )
    inbound = Inbound.objects.select_for_update().get(pk=inbound.pk)
    for name, value in changes.items():
        setattr(inbound, name, value)
    if "quantity" in changes or "expected_date" in changes:
        inbound.quantity = _check_inbound(quantity=inbound.quantity, expected_date=inbound.expected_date)
    history_as(inbound, by=by)
    inbound.save(update_fields=list(changes) or None)
    coverage_recheck_enqueue(material_ids=[inbound.material_id])
    return inbound


@transaction.atomic
def inbound_delete(*, inbound: Inbound, by: User) -> None:
    """Remove an inbound receipt that will not come (its history row keeps the record)."""
    history_as(inbound, by=by)
    material_id = inbound.material_id
    inbound.delete()
    coverage_recheck_enqueue(material_ids=[material_id])
