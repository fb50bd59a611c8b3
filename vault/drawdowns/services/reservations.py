"""Stock held for a request: reserved on approval, given back on cancellation, issued on
fulfilment. These run inside the caller's transaction with the request already locked
(`_common.request_lock`); each then locks the lots it touches in id order, and their
positions, through `inventory.services.stock_lock`, and reads free stock only from the locked
rows, so the total reserved never exceeds what is on hand."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.utils import timezone

from vault.accounts.models import User
from vault.core.errors import InsufficientStock
from vault.drawdowns import selectors
from vault.drawdowns.domain import allocate
from vault.drawdowns.models import DrawdownRequest, Reservation
from vault.inventory.services import lot_reserve, lot_unreserve, movement_release, stock_lock


def reservations_hold(*, request: DrawdownRequest, quantity: Decimal) -> None:
    """Reserve `quantity` of the request's material on available lots, oldest received first,
    one Reservation row per lot. InsufficientStock (409, `quantity`, `available`) when the
    locked lots hold less free stock, before anything is reserved."""
    locked = stock_lock(lots=selectors.lots_with_free_stock(material_id=request.material_id))
    lots = [lot for lot in locked.values() if lot.is_available and lot.on_hand > lot.reserved]
    free_total = sum((lot.on_hand - lot.reserved for lot in lots), Decimal("0"))
    if free_total < quantity:
        raise InsufficientStock(
            f"Only {free_total} kg is free to reserve; {quantity} kg cannot be approved now.",
            field="quantity",
            available=free_total,
        )
    oldest_first = sorted(lots, key=lambda lot: (lot.received_date, lot.pk))
    for lot, take in allocate(free=[(lot, lot.on_hand - lot.reserved) for lot in oldest_first], quantity=quantity):
        lot_reserve(lot=lot, quantity=take)
        Reservation.objects.create(request=request, lot=lot, quantity=take)


def _held_locked(request: DrawdownRequest) -> list[Reservation]:
    """The request's held reservations, their lots (and positions) locked in id order."""
    held = selectors.reservations_held(request=request)
    stock_lock(lots=[reservation.lot for reservation in held])
    return held


def reservations_release(*, request: DrawdownRequest) -> None:
    """Give every held reservation of the request back to its lot; the rows stay, released."""
    now = timezone.now()
    for reservation in _held_locked(request):
        lot_unreserve(lot=reservation.lot, quantity=reservation.quantity)
        reservation.state = Reservation.State.RELEASED
        reservation.closed_at = now
        reservation.save(update_fields=["state", "closed_at"])


def reservations_issue(*, request: DrawdownRequest, by: User, reason: str, at: datetime) -> None:
    """Issue exactly the held quantities: one release movement per lot out of its reserved
    stock (crediting inventory at cost), referenced by the request's number; each reservation
    is marked issued at `at` with its movement."""
    for reservation in _held_locked(request):
        movement = movement_release(
            lot=reservation.lot,
            quantity=reservation.quantity,
            by=by,
            from_reserved=True,
            reference=request.number,
            reason=reason,
        )
        reservation.state = Reservation.State.ISSUED
        reservation.movement = movement
        reservation.closed_at = at
        reservation.save(update_fields=["state", "movement", "closed_at"])
