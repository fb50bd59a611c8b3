"""Writes to the holdings. Every function here runs in one transaction and guarantees:

- a lot's `on_hand` never goes below its `reserved`, nor below zero (row lock on the lot,
  then a database CHECK constraint as the last word);
- each change of quantity leaves exactly one Movement row (two for a transfer) whose
  `balance_after` is the lot's new on-hand;
- the Position of the lot's material and site changes by the same amounts in the same
  transaction, so positions always equal the sum of their lots and of their movements;
- each change of value at cost posts a balanced journal entry, so the inventory account
  equals the cost of the stock on hand.

Locks are taken in one order everywhere (lots by id, then the receiving site, then
positions by material and site) so concurrent writers queue instead of deadlocking. Lots and
sites are locked FOR NO KEY UPDATE: the lock serialises writers of the same row but does not
block the FOR KEY SHARE lock that PostgreSQL takes on a row whenever another row references it
(a new movement, lot or position pointing at the site), which a plain FOR UPDATE would, and
which deadlocked concurrent transfers in opposite directions. A caller that composes several
of these services in one transaction over lots at different sites calls `stock_lock` first.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import partial
from typing import TypeVar

from django.db import connection, transaction
from django.db.models import F, ProtectedError, Q, Sum
from django.db.models.functions import Round
from django.utils import timezone

from vault.core.errors import Conflict, DomainError, InsufficientStock, InvalidInput
from vault.core.history import history_as
from vault.core.numbers import parse_quantity
from vault.inventory.models import Lot, Material, Movement, Position, Site, value_at_cost
from vault.inventory.selectors import site_held
from vault.inventory.signals import stock_changed
from vault.ledger import chart
from vault.ledger.models import JournalEntry
from vault.ledger.services import Line, entry_post, entry_reverse

QUANTUM = Decimal("0.001")
QUANTUM_PLACES = 3


def code_unchanged(*, instance: Material | Site, code: str) -> None:
    """A material's or site's code is its natural key, used by clients from the moment it is
    created: it never changes. Raises InvalidInput(`code_immutable`, field `code`) for another
    code; the database refuses the rename too (trigger, migration 0004)."""
    if instance.pk is not None and code != instance.code:
        raise InvalidInput(
            f"The code of {instance._meta.verbose_name} {instance.code} cannot be changed: clients address it by code.",
            field="code",
            code="code_immutable",
        )


# --- the catalogue: materials and sites --------------------------------------------------------

MATERIAL_EDITABLE = ("name", "form", "grade", "coverage_target_days", "price_floor")
SITE_EDITABLE = ("name", "country", "custodian", "capacity_kg")


CatalogueRow = TypeVar("CatalogueRow", Material, Site)


def _catalogue_add(row: Material | Site, *, by) -> None:
    row.full_clean()
    history_as(row, by=by)
    row.save()


def _catalogue_update(row: CatalogueRow, *, by, changes: dict, editable: tuple[str, ...]) -> CatalogueRow:
    """Lock `row`, apply the `changes` that differ from it, validate and save those."""
    if "code" in changes:
        code_unchanged(instance=row, code=changes.pop("code"))
    unknown = sorted(set(changes) - set(editable))
    if unknown:
        raise InvalidInput(f"Cannot change {', '.join(unknown)}.", field=unknown[0], code="field_not_editable")
    locked = type(row).objects.select_for_update(no_key=True).get(pk=row.pk)
    changed = [name for name, value in changes.items() if getattr(locked, name) != value]
    for name in changed:
        setattr(locked, name, changes[name])
    if changed:
        locked.full_clean(exclude=[f.name for f in row._meta.concrete_fields if f.name not in changed])
        history_as(locked, by=by)
        locked.save(update_fields=changed)
    return locked


def _catalogue_delete(row: Material | Site, *, by) -> None:
    history_as(row, by=by)
    try:
        row.delete()
    except ProtectedError:
        raise Conflict(
            f"{str(row._meta.verbose_name).capitalize()} {row.code} is in use (lots, prices, forecasts…): it stays.",
            code="in_use",
        ) from None


@transaction.atomic
def material_create(
    *,
    by,
    code: str,
    name: str,
    form: str,
    grade: str = "",
    coverage_target_days: int = 60,
    price_floor: Decimal | None = None,
) -> Material:
    """Add a material to the catalogue. What the model refuses (a code taken or not in the
    format, an unknown form, a target below one day) raises its ValidationError, per field."""
    material = Material(
        code=code,
        name=name,
        form=form,
        grade=grade,
        coverage_target_days=coverage_target_days,
        price_floor=price_floor,
    )
    _catalogue_add(material, by=by)
    return material


@transaction.atomic
def material_update(*, material: Material, by, **changes) -> Material:
    """Change a material's `MATERIAL_EDITABLE` fields; its code never changes (`code_immutable`),
    another field is refused (InvalidInput on it). Only the values that differ are written, with
    a history row saying who; nothing at all when none does."""
    return _catalogue_update(material, by=by, changes=changes, editable=MATERIAL_EDITABLE)


@transaction.atomic
def material_delete(*, material: Material, by) -> None:
    """Remove a material nothing refers to (a history row keeps it); one in use raises Conflict
    (`in_use`): the database protects its lots, prices and forecasts."""
    _catalogue_delete(material, by=by)


@transaction.atomic
def site_create(
    *, by, code: str, name: str, country: str, custodian: str = "", capacity_kg: Decimal | None = None
) -> Site:
    """Add a storage site. What the model refuses (a code taken or not in the format, a country
    that is not an ISO 3166 code, a negative capacity) raises its ValidationError, per field."""
    site = Site(code=code, name=name, country=country, custodian=custodian, capacity_kg=capacity_kg)
    _catalogue_add(site, by=by)
    return site


@transaction.atomic
def site_update(*, site: Site, by, **changes) -> Site:
    """Change a site's `SITE_EDITABLE` fields, as `material_update` does a material's. A capacity
    below what the site holds now raises InvalidInput (`capacity_below_held`, field
    `capacity_kg`): the site row is locked first, as every inflow's capacity check locks it, so
    no receipt can slip in between the check and the change."""
    capacity = changes.get("capacity_kg")
    if capacity is not None:
        Site.objects.select_for_update(no_key=True).get(pk=site.pk)
        held = site_held(site=site)
        if capacity < held:
            raise InvalidInput(
                f"The site holds {held} kg; capacity cannot be less.", field="capacity_kg", code="capacity_below_held"
            )
    return _catalogue_update(site, by=by, changes=changes, editable=SITE_EDITABLE)


@transaction.atomic
def site_delete(*, site: Site, by) -> None:
    """Remove a site nothing refers to (a history row keeps it); one with lots or positions
    raises Conflict (`in_use`)."""
    _catalogue_delete(site, by=by)


@dataclass(frozen=True)
class _Change:
    lot: Lot
    delta: Decimal  # on-hand change, signed
    reserved_delta: Decimal = Decimal("0")


def _plus(field: str, delta: Decimal):
    """`field + delta`, computed by the database. SQLite keeps decimals as floats: rounding to
    the gram there keeps repeated additions from drifting (0.1 + 0.2 != 0.3)."""
    if connection.vendor == "sqlite":
        return Round(F(field) + delta, QUANTUM_PLACES)
    return F(field) + delta


def _locked(*lots: Lot) -> dict[int, Lot]:
    ids = sorted({lot.pk for lot in lots})
    locked = Lot.objects.select_for_update(no_key=True).filter(pk__in=ids).order_by("pk")
    return {lot.pk: lot for lot in locked}


@transaction.atomic
def stock_lock(*, lots: list[Lot]) -> dict[int, Lot]:
    """Lock `lots` (by id) and then their positions (by material and site), and return the
    fresh lots by id. For a caller that runs several services in one transaction over lots at
    different sites (e.g. a drawdown releasing several lots): without it, two such transactions
    can each hold one position the other needs next. Must run inside the caller's transaction."""
    locked = _locked(*lots)
    keys = sorted({(lot.material_id, lot.site_id) for lot in locked.values()})
    if keys:
        condition = Q()
        for material_id, site_id in keys:
            condition |= Q(material_id=material_id, site_id=site_id)
        list(
            Position.objects.select_for_update(no_key=True)
            .filter(condition)
            .order_by("material_id", "site_id")
            .values_list("pk", flat=True)
        )
    return locked


def _ensure_position(material_id: int, site_id: int) -> None:
    Position.objects.bulk_create([Position(material_id=material_id, site_id=site_id)], ignore_conflicts=True)


def _position_from_lots(material_id: int, site_id: int) -> None:
    lots = Lot.objects.filter(material_id=material_id, site_id=site_id)
    zero = Decimal("0")
    totals = lots.aggregate(
        total_on_hand=Sum("on_hand", default=zero),
        total_reserved=Sum("reserved", default=zero),
        total_unavailable=Sum("on_hand", filter=~Q(status=Lot.Status.AVAILABLE), default=zero),
    )
    Position.objects.create(
        material_id=material_id,
        site_id=site_id,
        **{name.removeprefix("total_"): Decimal(value).quantize(QUANTUM) for name, value in totals.items()},
    )


def _check_capacity(site: Site, incoming: Decimal) -> None:
    """Refuse an inflow that would put more on the site than its capacity. The site row is
    locked so that two concurrent inflows cannot both pass the check."""
    if incoming <= 0:
        return
    site = Site.objects.select_for_update(no_key=True).get(pk=site.pk)
    if site.capacity_kg is None:
        return
    held = Position.objects.filter(site=site).aggregate(total=Sum("on_hand", default=Decimal("0")))["total"]
    held = Decimal(held).quantize(QUANTUM)  # SQLite sums decimals as floats
    if held + incoming > site.capacity_kg:
        raise InvalidInput(
            f"Site {site.code} holds {held} kg of {site.capacity_kg} kg capacity; {incoming} kg more does not fit.",
            field="quantity",
            code="exceeds_site_capacity",
        )


def _apply(changes: list[_Change]) -> dict[int, Decimal]:
    """Write lot and position balances for already locked lots; return each lot's new on-hand."""
    after: dict[int, Decimal] = {}
    for change in sorted(changes, key=lambda c: (c.lot.material_id, c.lot.site_id, c.lot.pk)):
        lot = change.lot
        new_on_hand = lot.on_hand + change.delta
        new_reserved = lot.reserved + change.reserved_delta
        if new_on_hand < 0 or new_reserved < 0 or new_reserved > new_on_hand:
            raise InsufficientStock(
                f"Lot {lot.lot_number} has {lot.on_hand - lot.reserved} kg free "
                f"({lot.on_hand} on hand, {lot.reserved} reserved).",
                field="quantity",
                lot=lot.lot_number,
            )
        Lot.objects.filter(pk=lot.pk).update(
            on_hand=_plus("on_hand", change.delta), reserved=_plus("reserved", change.reserved_delta)
        )
        position_change = {
            "on_hand": _plus("on_hand", change.delta),
            "reserved": _plus("reserved", change.reserved_delta),
            "unavailable": _plus("unavailable", Decimal("0") if lot.is_available else change.delta),
        }
        position = Position.objects.filter(material_id=lot.material_id, site_id=lot.site_id)
        if not position.update(**position_change):
            # A lot loaded by other means than lot_create (a bulk load): build its position
            # from the lots, which already include this change.
            _position_from_lots(lot.material_id, lot.site_id)
        lot.on_hand, lot.reserved = new_on_hand, new_reserved
        after[lot.pk] = new_on_hand
        size = max(abs(change.delta), abs(change.reserved_delta))
        transaction.on_commit(partial(stock_changed.send, sender=Lot, material_id=lot.material_id, quantity=size))
    return after


def _value_change(lot: Lot, before: Decimal, after: Decimal) -> Decimal:
    # The change of the lot's rounded value, so that movement values add up to exactly the
    # lot's value at cost however many movements it has.
    return value_at_cost(after, lot.unit_cost) - value_at_cost(before, lot.unit_cost)


def _record(
    *,
    kind: str,
    lot: Lot,
    quantity: Decimal,
    balance_after: Decimal,
    by,
    reason: str = "",
    reference: str = "",
    reverses: Movement | None = None,
    counterpart: Movement | None = None,
) -> Movement:
    return Movement.objects.create(
        kind=kind,
        lot=lot,
        material_id=lot.material_id,
        site_id=lot.site_id,
        quantity=quantity,
        balance_after=balance_after,
        value=_value_change(lot, balance_after - quantity, balance_after),
        reason=reason,
        reference=reference,
        reverses=reverses,
        counterpart=counterpart,
        created_by=by,
    )


# Which account takes the other side of the inventory account, per kind of movement.
_CONTRA_ACCOUNT: dict[str, str] = {
    Movement.Kind.RECEIPT: chart.CASH,
    Movement.Kind.ADJUSTMENT: chart.INVENTORY_ADJUSTMENTS,
    Movement.Kind.TRANSFER: chart.INVENTORY_ADJUSTMENTS,
    Movement.Kind.WRITE_OFF: chart.WRITE_OFFS,
    Movement.Kind.RELEASE: chart.COST_OF_RELEASES,
}


def _post(
    movements: list[Movement], *, by, contra: str | None = None, memo: str = "", net: Decimal | None = None
) -> JournalEntry | None:
    """Post the net value change of `movements` (one operation) against the inventory account."""
    first = movements[0]
    if net is None:
        net = sum((m.value for m in movements), Decimal("0"))
    if net == 0:
        return None
    contra = contra or _CONTRA_ACCOUNT[first.kind]
    lines = (
        [Line(chart.INVENTORY, debit=net), Line(contra, credit=net)]
        if net > 0
        else [Line(contra, debit=-net), Line(chart.INVENTORY, credit=-net)]
    )
    lot = first.lot
    return entry_post(
        date=timezone.localdate(),
        memo=memo or f"{first.get_kind_display()} {abs(first.quantity)} kg {lot.material.code} lot {lot.lot_number}",
        lines=lines,
        source_type="movement",
        source_id=first.pk,
        by=by,
    )


# --- lots ------------------------------------------------------------------------------------


@transaction.atomic
def lot_create(
    *,
    by,
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
    """Create a lot, and receive `initial_quantity` into it when given (one receipt movement,
    posted against `contra_account`: cash for a purchase, receivables for a replenishment)."""
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
    _ensure_position(material.pk, site.pk)
    if initial_quantity is not None:
        try:
            movement_receipt(
                lot=lot,
                quantity=initial_quantity,
                by=by,
                reason="Initial receipt",
                reference=reference,
                contra_account=contra_account,
            )
        except DomainError as exc:
            if exc.field == "quantity":
                exc.field = "initial_quantity"  # the name the caller gave it
            raise
        lot.refresh_from_db(fields=["on_hand", "reserved"])
    return lot


@transaction.atomic
def lot_set_status(*, lot: Lot, status: str, by, reason: str = "") -> Lot:
    """Move a lot between available, quarantine and damaged; its on-hand moves in or out of
    the position's `unavailable`. A lot with reservations cannot leave `available`."""
    if status not in Lot.Status.values:
        raise InvalidInput(f"Unknown status {status!r}.", field="status", code="lot_status_unknown")
    lot = _locked(lot)[lot.pk]
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
            unavailable=_plus("unavailable", shift)
        )
    return lot


LOT_DETAILS = ("supplier", "assay_certificate")


@transaction.atomic
def lot_details_update(*, lot: Lot, by, **changes) -> Lot:
    """Change what describes a lot without moving stock or value (`LOT_DETAILS`: supplier,
    assay certificate): no movement, no journal entry, a history row saying who. Another field
    is refused (InvalidInput on it): quantities change through movements, the status through
    `lot_set_status`, and what identifies the lot never changes. Nothing is written when no
    value differs."""
    unknown = sorted(set(changes) - set(LOT_DETAILS))
    if unknown:
        raise InvalidInput(
            f"Cannot change {', '.join(unknown)} of a lot here.", field=unknown[0], code="field_not_editable"
        )
    locked = _locked(lot)[lot.pk]
    changed = [name for name, value in changes.items() if getattr(locked, name) != value]
    if not changed:
        return locked
    for name in changed:
        setattr(locked, name, changes[name])
    locked.full_clean(exclude=[f.name for f in Lot._meta.concrete_fields if f.name not in changed])
    history_as(locked, by=by)
    locked.save(update_fields=changed)
    return locked


# --- movements -------------------------------------------------------------------------------


def _one_lot_movement(
    *, kind: str, lot: Lot, delta: Decimal, by, reason: str, reference: str, contra: str | None = None
) -> Movement:
    """Lock the lot, refuse an inflow beyond its site's capacity, change its stock by `delta`,
    record the movement and post its value (against `contra`, or the kind's own account): the
    one body of receipts, adjustments and write-offs."""
    lot = _locked(lot)[lot.pk]
    _check_capacity(lot.site, delta)
    after = _apply([_Change(lot, delta)])
    movement = _record(
        kind=kind, lot=lot, quantity=delta, balance_after=after[lot.pk], by=by, reason=reason, reference=reference
    )
    _post([movement], by=by, contra=contra)
    return movement


def _reason_required(reason: str, message: str) -> None:
    if not reason.strip():
        raise InvalidInput(message, field="reason", code="reason_required")


@transaction.atomic
def movement_receipt(
    *, lot: Lot, quantity: Decimal, by, reason: str = "", reference: str = "", contra_account: str = chart.CASH
) -> Movement:
    """Receive material into a lot (Dr inventory at the lot's unit cost / Cr `contra_account`,
    cash by default). Refused beyond the site's capacity."""
    quantity = parse_quantity(quantity)
    return _one_lot_movement(
        kind=Movement.Kind.RECEIPT,
        lot=lot,
        delta=quantity,
        by=by,
        reason=reason,
        reference=reference,
        contra=contra_account,
    )


@transaction.atomic
def movement_adjust(*, lot: Lot, quantity: Decimal, by, reason: str, reference: str = "") -> Movement:
    """Correct a lot after a count or an assay by a signed quantity; a reason is required. An
    increase is refused beyond the site's capacity."""
    quantity = parse_quantity(quantity, allow_negative=True)
    _reason_required(reason, "An adjustment needs a reason (count, assay...).")
    return _one_lot_movement(
        kind=Movement.Kind.ADJUSTMENT, lot=lot, delta=quantity, by=by, reason=reason, reference=reference
    )


@transaction.atomic
def movement_write_off(*, lot: Lot, quantity: Decimal, by, reason: str, reference: str = "") -> Movement:
    """Write material off (lost, damaged beyond use); a reason is required."""
    quantity = parse_quantity(quantity)
    _reason_required(reason, "A write-off needs a reason.")
    return _one_lot_movement(
        kind=Movement.Kind.WRITE_OFF, lot=lot, delta=-quantity, by=by, reason=reason, reference=reference
    )


@transaction.atomic
def movement_release(
    *, lot: Lot, quantity: Decimal, by, reason: str = "", reference: str = "", from_reserved: bool = False
) -> Movement:
    """Issue material out of the stockpile. Only from an available lot; unless
    `from_reserved` (a drawdown fulfilling its own reservation), reserved stock is untouched."""
    quantity = parse_quantity(quantity)
    lot = _locked(lot)[lot.pk]
    if not lot.is_available:
        raise Conflict(
            f"Lot {lot.lot_number} is {lot.status}; only available lots are released.",
            field="lot",
            code="lot_not_available",
        )
    change = _Change(lot, -quantity, -quantity if from_reserved else Decimal("0"))
    after = _apply([change])
    movement = _record(
        kind=Movement.Kind.RELEASE,
        lot=lot,
        quantity=-quantity,
        balance_after=after[lot.pk],
        by=by,
        reason=reason,
        reference=reference,
    )
    _post([movement], by=by)
    return movement


def _transfer_destination(lot: Lot, to_site: Site) -> Lot:
    root = lot.parent or lot
    if root.site_id == to_site.pk:
        return root
    destination, _ = Lot.objects.get_or_create(
        lot_number=f"{root.lot_number}@{to_site.code}",
        defaults={
            "material_id": root.material_id,
            "site": to_site,
            "parent": root,
            "status": lot.status,
            "mining_country": root.mining_country,
            "processing_country": root.processing_country,
            "supplier": root.supplier,
            "received_date": root.received_date,
            "unit_cost": root.unit_cost,
            "assay_certificate": root.assay_certificate,
        },
    )
    if (destination.parent_id, destination.material_id, destination.site_id) != (root.pk, root.material_id, to_site.pk):
        raise Conflict(
            f"Lot number {destination.lot_number} is taken by another lot; rename it before transferring here.",
            field="to_site",
            code="transfer_lot_number_taken",
        )
    _ensure_position(destination.material_id, to_site.pk)
    return destination


@transaction.atomic
def movement_transfer(
    *, lot: Lot, quantity: Decimal, to_site: Site, by, reason: str = "", reference: str = ""
) -> Movement:
    """Move quantity from a lot to the lot of the same origin at `to_site` (created on first
    transfer). Returns the outbound leg; `counterpart` is the inbound leg."""
    quantity = parse_quantity(quantity)
    if to_site.pk == lot.site_id:
        raise InvalidInput("A transfer goes to another site.", field="to_site", code="transfer_same_site")
    destination = _transfer_destination(lot, to_site)
    locked = _locked(lot, destination)
    source, destination = locked[lot.pk], locked[destination.pk]
    _check_capacity(to_site, quantity)
    after = _apply([_Change(source, -quantity), _Change(destination, quantity)])
    in_leg = _record(
        kind=Movement.Kind.TRANSFER,
        lot=destination,
        quantity=quantity,
        balance_after=after[destination.pk],
        by=by,
        reason=reason,
        reference=reference,
    )
    out_leg = _record(
        kind=Movement.Kind.TRANSFER,
        lot=source,
        quantity=-quantity,
        balance_after=after[source.pk],
        by=by,
        reason=reason,
        reference=reference,
        counterpart=in_leg,
    )
    _post([out_leg, in_leg], by=by)
    return out_leg


@transaction.atomic
def movement_reverse(*, movement: Movement, by, reason: str) -> Movement:
    """Undo a movement with an opposite one pointing at it (both legs of a transfer), and
    reverse its journal entry. A movement is reversed at most once; reversals are final."""
    if not reason.strip():
        raise InvalidInput("A reversal needs a reason.", field="reason", code="reason_required")
    if movement.kind == Movement.Kind.REVERSAL:
        raise Conflict(
            "A reversal cannot itself be reversed; record a new movement instead.",
            field="movement",
            code="reversal_not_reversible",
        )
    legs = [movement]
    if movement.kind == Movement.Kind.TRANSFER:
        partner = movement.counterpart or Movement.objects.filter(counterpart=movement).first()
        if partner is not None:
            legs.append(partner)
    locked = _locked(*(leg.lot for leg in legs))
    # Checked under the lots' locks, so that two concurrent reversals cannot both pass.
    if Movement.objects.filter(reverses__in=legs).exists():
        raise Conflict(f"Movement {movement.pk} is already reversed.", field="movement", code="already_reversed")
    for leg in legs:
        _check_capacity(locked[leg.lot_id].site, -leg.quantity)
    after = _apply([_Change(locked[leg.lot_id], -leg.quantity) for leg in legs])
    reversals = [
        _record(
            kind=Movement.Kind.REVERSAL,
            lot=locked[leg.lot_id],
            quantity=-leg.quantity,
            balance_after=after[leg.lot_id],
            by=by,
            reason=reason,
            reference=f"reverses #{leg.pk}",
            reverses=leg,
        )
        for leg in legs
    ]
    originals = JournalEntry.objects.filter(
        source_type="movement", source_id__in=[leg.pk for leg in legs], reverses__isnull=True
    ).order_by("pk")
    for entry in originals:
        entry_reverse(
            entry=entry, date=timezone.localdate(), by=by, memo=f"Reversal of movement {movement.pk}: {reason}"
        )
    # Other movements since the original may have moved the lot's rounding by a cent: post
    # the difference so that the inventory account still equals the stock at cost.
    rounding = sum((m.value for m in reversals), Decimal("0")) + sum((leg.value for leg in legs), Decimal("0"))
    if rounding:
        _post(
            reversals,
            by=by,
            contra=chart.INVENTORY_ADJUSTMENTS,
            net=rounding,
            memo=f"Rounding on reversal of movement {movement.pk}",
        )
    return reversals[0]


# --- reservations (used by drawdowns) --------------------------------------------------------


@transaction.atomic
def lot_reserve(*, lot: Lot, quantity: Decimal) -> Lot:
    """Reserve free stock of an available lot. Raises InsufficientStock (409) when short."""
    quantity = parse_quantity(quantity)
    lot = _locked(lot)[lot.pk]
    if not lot.is_available:
        raise Conflict(
            f"Lot {lot.lot_number} is {lot.status}; only available lots are reserved.",
            field="lot",
            code="lot_not_available",
        )
    _apply([_Change(lot, Decimal("0"), quantity)])
    return lot


@transaction.atomic
def lot_unreserve(*, lot: Lot, quantity: Decimal) -> Lot:
    """Give back reserved stock (a cancelled or reduced drawdown)."""
    quantity = parse_quantity(quantity)
    lot = _locked(lot)[lot.pk]
    _apply([_Change(lot, Decimal("0"), -quantity)])
    return lot


_DISPATCH: dict[str, Callable[..., Movement]] = {
    Movement.Kind.RECEIPT: movement_receipt,
    Movement.Kind.ADJUSTMENT: movement_adjust,
    Movement.Kind.WRITE_OFF: movement_write_off,
    Movement.Kind.RELEASE: movement_release,
    Movement.Kind.TRANSFER: movement_transfer,
}
CREATABLE_KINDS = [kind for kind in Movement.Kind if kind in _DISPATCH]


def movement_create(
    *, kind: str, lot: Lot, quantity: Decimal, by, reason: str = "", to_site: Site | None = None, reference: str = ""
) -> Movement:
    """One entry point for the API and the admin: dispatches on `kind`."""
    if kind not in _DISPATCH:
        raise InvalidInput(
            f"Unknown kind {kind!r}; choose one of {', '.join(CREATABLE_KINDS)}.",
            field="kind",
            code="movement_kind_unknown",
        )
    kwargs = {"lot": lot, "quantity": quantity, "by": by, "reason": reason or "", "reference": reference or ""}
    if kind == Movement.Kind.TRANSFER:
        if to_site is None:
            raise InvalidInput("A transfer needs a destination site.", field="to_site", code="to_site_required")
        kwargs["to_site"] = to_site
    elif to_site is not None:
        raise InvalidInput("Only a transfer takes a destination site.", field="to_site", code="to_site_not_allowed")
    return _DISPATCH[kind](**kwargs)
