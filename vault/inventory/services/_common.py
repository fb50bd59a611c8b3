"""What every stock write shares: the row locks, the balance changes of lots and positions,
the movement rows and their journal entries. The guarantees are the package's (see
`vault.inventory.services`): lots locked by id, then the receiving site, then positions by
material and site; a lot's on-hand never below its reserved nor zero; one movement per lot
changed; each change of value at cost posted against the inventory account."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import partial
from typing import Any, TypeVar

from django.db import connection, transaction
from django.db.models import F, Model, Q
from django.db.models.expressions import Combinable
from django.db.models.functions import Round
from django.utils import timezone

from vault.accounts.models import User
from vault.core.errors import Conflict, InsufficientStock, InvalidInput
from vault.core.history import history_as
from vault.inventory.models import Lot, Movement, Position, Site, value_at_cost
from vault.inventory.selectors import lot_lowest_balance_from, lot_totals, site_held
from vault.inventory.signals import stock_changed
from vault.ledger import chart
from vault.ledger.models import JournalEntry
from vault.ledger.services import Line, date_open_check, entry_post

QUANTUM_PLACES = 3
ZERO = Decimal("0")

Row = TypeVar("Row", bound=Model)


@dataclass(frozen=True)
class Change:
    """A change of one locked lot's balances, as `changes_apply` writes it."""

    lot: Lot
    delta: Decimal  # on-hand change, signed
    reserved_delta: Decimal = ZERO


def plus(field: str, delta: Decimal) -> Combinable:
    """`field + delta`, computed by the database. SQLite keeps decimals as floats: rounding to
    the gram there keeps repeated additions from drifting (0.1 + 0.2 != 0.3)."""
    if connection.vendor == "sqlite":
        return Round(F(field) + delta, QUANTUM_PLACES)
    return F(field) + delta


def lots_lock(*lots: Lot) -> dict[int, Lot]:
    """Lock `lots` FOR NO KEY UPDATE in id order and return them fresh, by id."""
    ids = sorted({lot.pk for lot in lots})
    rows = Lot.objects.select_for_update(no_key=True).filter(pk__in=ids).order_by("pk")
    return {lot.pk: lot for lot in rows}


@transaction.atomic
def stock_lock(*, lots: list[Lot]) -> dict[int, Lot]:
    """Lock `lots` (by id) and then their positions (by material and site), and return the
    fresh lots by id. For a caller that runs several services in one transaction over lots at
    different sites (e.g. a drawdown releasing several lots): without it, two such transactions
    can each hold one position the other needs next. Must run inside the caller's transaction."""
    fresh = lots_lock(*lots)
    keys = sorted({(lot.material_id, lot.site_id) for lot in fresh.values()})
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
    return fresh


def differing_save(row: Row, *, changes: dict[str, Any], by: User) -> Row:
    """Set on `row` (locked by the caller) the `changes` whose value differs, validate those
    fields, and save them with a history row saying who; nothing at all when none differs."""
    changed = [name for name, value in changes.items() if getattr(row, name) != value]
    if changed:
        for name in changed:
            setattr(row, name, changes[name])
        row.full_clean(exclude=[f.name for f in row._meta.concrete_fields if f.name not in changed])
        history_as(row, by=by)
        row.save(update_fields=changed)
    return row


def position_ensure(material_id: int, site_id: int) -> None:
    Position.objects.bulk_create([Position(material_id=material_id, site_id=site_id)], ignore_conflicts=True)


def available_check(lot: Lot, *, verb: str) -> None:
    """Refuse a quarantined or damaged lot (Conflict `lot_not_available`, field `lot`): only
    available lots are `verb` (released, reserved)."""
    if not lot.is_available:
        raise Conflict(
            f"Lot {lot.lot_number} is {lot.status}; only available lots are {verb}.",
            field="lot",
            code="lot_not_available",
        )


def business_date_check(day: date | None, *, lot: Lot | None = None, field: str = "business_date") -> date:
    """The business date of a movement: `day`, or today when not given. Refused: a future day
    (InvalidInput `business_date_future`), a day before `lot` was received
    (`business_date_before_receipt`) and a day in a closed period (Conflict `period_closed`, the
    ledger's rule, its lock date held until the transaction ends), each on `field`."""
    today = timezone.localdate()
    day = today if day is None else day
    if day > today:
        raise InvalidInput(
            f"A movement cannot be dated {day}, after today ({today}).", field=field, code="business_date_future"
        )
    if lot is not None and day < lot.received_date:
        raise InvalidInput(
            f"Lot {lot.lot_number} was received on {lot.received_date}: a movement of it cannot be dated {day}.",
            field=field,
            code="business_date_before_receipt",
        )
    date_open_check(day, field=field, lock=True)
    return day


def _capacity_check(site_id: int, incoming: Decimal) -> None:
    """Refuse an inflow that would put more on the site than its capacity
    (`exceeds_site_capacity`, field `quantity`). The site row is locked so that two concurrent
    inflows cannot both pass the check."""
    if incoming <= 0:
        return
    site = Site.objects.select_for_update(no_key=True).get(pk=site_id)
    if site.capacity_kg is None:
        return
    held = site_held(site=site)
    if held + incoming > site.capacity_kg:
        raise InvalidInput(
            f"Site {site.code} holds {held} kg of {site.capacity_kg} kg capacity; {incoming} kg more does not fit.",
            field="quantity",
            code="exceeds_site_capacity",
        )


def _balances_check(change: Change) -> None:
    lot = change.lot
    on_hand, reserved = lot.on_hand + change.delta, lot.reserved + change.reserved_delta
    if on_hand < 0 or reserved < 0 or reserved > on_hand:
        raise InsufficientStock(
            f"Lot {lot.lot_number} has {lot.on_hand - lot.reserved} kg free "
            f"({lot.on_hand} on hand, {lot.reserved} reserved).",
            field="quantity",
            lot=lot.lot_number,
        )


def _history_check(change: Change, day: date | None) -> None:
    """An outflow dated before today must not take the lot below zero on any business date
    since (InsufficientStock): its history, read by business date, stays possible."""
    if day is None or change.delta >= 0 or day >= timezone.localdate():
        return
    lot = change.lot
    lowest = lot_lowest_balance_from(lot_id=lot.pk, day=day)
    if lowest + change.delta < 0:
        raise InsufficientStock(
            f"Lot {lot.lot_number} held at most {lowest} kg on or after {day}: "
            f"{-change.delta} kg cannot leave it on that date.",
            field="quantity",
            lot=lot.lot_number,
        )


def _position_apply(change: Change) -> None:
    """Add `change` to the position of its lot's material and site (once the lot's row has it)."""
    lot = change.lot
    position = Position.objects.filter(material_id=lot.material_id, site_id=lot.site_id)
    updated = position.update(
        on_hand=plus("on_hand", change.delta),
        reserved=plus("reserved", change.reserved_delta),
        unavailable=plus("unavailable", ZERO if lot.is_available else change.delta),
    )
    if not updated:
        # A lot loaded by other means than lot_create (a bulk load): build its position from
        # the lots, which already include this change.
        totals = lot_totals(material_id=lot.material_id, site_id=lot.site_id)
        Position.objects.create(material_id=lot.material_id, site_id=lot.site_id, **totals)


def changes_apply(changes: list[Change], *, on: date | None = None) -> dict[int, Decimal]:
    """Write lot and position balances for already locked lots, and return each lot's new
    on-hand. Refused, before anything is written, when an inflow would put more on its site
    than the site's capacity (the receiving sites are locked first, in the order of `changes`,
    then the positions in material and site order) and when a lot would go below its reserved
    or zero (InsufficientStock), now or, for an outflow dated `on` before today, on any
    business date since."""
    for change in changes:
        _capacity_check(change.lot.site_id, change.delta)
    for change in changes:
        _history_check(change, on)
    after: dict[int, Decimal] = {}
    for change in sorted(changes, key=lambda c: (c.lot.material_id, c.lot.site_id, c.lot.pk)):
        _balances_check(change)
        lot = change.lot
        Lot.objects.filter(pk=lot.pk).update(
            on_hand=plus("on_hand", change.delta), reserved=plus("reserved", change.reserved_delta)
        )
        _position_apply(change)
        lot.on_hand += change.delta
        lot.reserved += change.reserved_delta
        after[lot.pk] = lot.on_hand
        size = max(abs(change.delta), abs(change.reserved_delta))
        transaction.on_commit(partial(stock_changed.send, sender=Lot, material_id=lot.material_id, quantity=size))
    return after


def movement_record(
    *,
    kind: str,
    change: Change,
    after: dict[int, Decimal],
    by: User,
    business_date: date,
    reason: str = "",
    reference: str = "",
    reverses: Movement | None = None,
    counterpart: Movement | None = None,
) -> Movement:
    """The movement row of an applied `change` (`after`: what `changes_apply` returned), on
    `business_date` (checked by the caller with `business_date_check`). Its value is
    the change of the lot's rounded value, so that movement values add up to exactly the lot's
    value at cost however many movements it has."""
    lot, balance_after = change.lot, after[change.lot.pk]
    value = value_at_cost(balance_after, lot.unit_cost) - value_at_cost(balance_after - change.delta, lot.unit_cost)
    return Movement.objects.create(
        kind=kind,
        lot=lot,
        material_id=lot.material_id,
        site_id=lot.site_id,
        quantity=change.delta,
        balance_after=balance_after,
        value=value,
        reason=reason,
        reference=reference,
        reverses=reverses,
        counterpart=counterpart,
        business_date=business_date,
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


def movements_post(
    movements: list[Movement], *, by: User, contra: str | None = None, memo: str = "", net: Decimal | None = None
) -> JournalEntry | None:
    """Post the net value change of `movements` (one operation) against the inventory account,
    as the first movement's entry, dated on its business date; nothing when the net is zero."""
    first = movements[0]
    if net is None:
        net = sum((m.value for m in movements), ZERO)
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
        date=first.business_date,
        memo=memo or f"{first.get_kind_display()} {abs(first.quantity)} kg {lot.material.code} lot {lot.lot_number}",
        lines=lines,
        source_type="movement",
        source_id=first.pk,
        by=by,
    )
