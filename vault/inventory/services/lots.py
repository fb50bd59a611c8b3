"""Lots: their creation (with the initial receipt), their status and their descriptive details.

Guarantees: a lot number is unique (`lot_number_taken`); a lot created with an initial quantity
gets exactly one receipt movement and its journal entry in the same transaction (a refusal of
the receipt, on `initial_quantity`, leaves no lot); a status change moves the lot's on-hand in
or out of its position's `unavailable` under the lot's lock, and a lot with reservations never
leaves `available` (`lot_reserved`); a details change moves no stock and no value."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.db import transaction

from vault.accounts.models import User
from vault.core.errors import Conflict, DomainError, InvalidInput
from vault.core.history import history_as
from vault.inventory.models import Lot, Material, Position, Site
from vault.inventory.parsing import editable_check, status_check
from vault.inventory.services._common import differing_save, lots_lock, plus, position_ensure
from vault.inventory.services.movements import movement_receipt
from vault.ledger import chart

LOT_DETAILS = ("supplier", "assay_certificate")
# The receipt's fields as `lot_create` names them.
_INITIAL_RECEIPT_FIELDS = {"quantity": "initial_quantity", "business_date": "received_date"}


def _initial_receipt(*, lot: Lot, quantity: Decimal, by: User, reference: str, contra_account: str) -> None:
    """Receive `quantity` into the new `lot` on its received date (its business date); a refusal
    about the quantity names the caller's field, `initial_quantity`, and one about the date
    (future, closed period) `received_date`."""
    try:
        movement_receipt(
            lot=lot,
            quantity=quantity,
            by=by,
            reason="Initial receipt",
            reference=reference,
            contra_account=contra_account,
            business_date=lot.received_date,
        )
    except DomainError as exc:
        if exc.field in _INITIAL_RECEIPT_FIELDS:
            exc.field = _INITIAL_RECEIPT_FIELDS[exc.field]
        raise
    lot.refresh_from_db(fields=["on_hand", "reserved"])


@transaction.atomic
def lot_create(
    *,
    by: User,
    lot_number: str,
    material: Material,
    site: Site,
    mining_country: str,
    processing_country: str,
    received_date: date,
    unit_cost: Decimal,
    supplier: str = "",
    assay_certificate: str = "",
    status: str = Lot.Status.AVAILABLE,
    initial_quantity: Decimal | None = None,
    contra_account: str = chart.CASH,
    reference: str = "",
) -> Lot:
    """Create a lot, and receive `initial_quantity` into it when given (one receipt movement
    dated `received_date`, posted on that day against `contra_account`: cash for a purchase,
    receivables for a replenishment; a future or closed date is then refused on `received_date`).
    A lot number taken raises InvalidInput (`lot_number_taken`); what the model refuses raises
    its ValidationError, per field."""
    if Lot.objects.filter(lot_number=lot_number).exists():
        raise InvalidInput(f"Lot number {lot_number} is already taken.", field="lot_number", code="lot_number_taken")
    lot = Lot(
        lot_number=lot_number,
        material=material,
        site=site,
        status=status,
        mining_country=mining_country,
        processing_country=processing_country,
        supplier=supplier,
        received_date=received_date,
        unit_cost=unit_cost,
        assay_certificate=assay_certificate,
    )
    lot.full_clean()
    history_as(lot, by=by)
    lot.save()
    position_ensure(material.pk, site.pk)
    if initial_quantity is not None:
        _initial_receipt(lot=lot, quantity=initial_quantity, by=by, reference=reference, contra_account=contra_account)
    return lot


@transaction.atomic
def lot_set_status(*, lot: Lot, status: str, by: User, reason: str = "") -> Lot:
    """Move a lot between available, quarantine and damaged (another status: `lot_status_unknown`);
    its on-hand moves in or out of the position's `unavailable`. A lot with reservations cannot
    leave `available` (Conflict `lot_reserved`)."""
    status_check(status)
    lot = lots_lock(lot)[lot.pk]
    if status == lot.status:
        return lot
    if lot.reserved > 0 and status != Lot.Status.AVAILABLE:
        raise Conflict(
            f"Lot {lot.lot_number} has {lot.reserved} kg reserved; release the reservations first.",
            field="status",
            code="lot_reserved",
        )
    was_available = lot.is_available
    lot.status = status
    history_as(lot, by=by, reason=reason)
    lot.save(update_fields=["status"])
    if was_available != lot.is_available:
        shift = lot.on_hand if was_available else -lot.on_hand
        Position.objects.filter(material_id=lot.material_id, site_id=lot.site_id).update(
            unavailable=plus("unavailable", shift)
        )
    return lot


@transaction.atomic
def lot_details_update(*, lot: Lot, by: User, **changes: Any) -> Lot:
    """Change what describes a lot without moving stock or value (`LOT_DETAILS`: supplier,
    assay certificate): no movement, no journal entry, a history row saying who. Another field
    is refused (InvalidInput `field_not_editable` on it): quantities change through movements,
    the status through `lot_set_status`, and what identifies the lot never changes. Nothing is
    written when no value differs."""
    editable_check(changes, editable=LOT_DETAILS, what="a lot")
    return differing_save(lots_lock(lot)[lot.pk], changes=changes, by=by)
