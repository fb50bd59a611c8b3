"""Movements of one lot: receipts, adjustments, write-offs and releases, and `movement_create`,
the one entry point of the API and the admin for every kind that can be created.

Guarantees: each runs in one transaction under the lot's lock (then the site's, for an inflow,
then the position's) and writes exactly one movement, whose `balance_after` is the lot's new
on-hand, and the journal entry of its value at cost. An inflow beyond the site's capacity is
refused (`exceeds_site_capacity`), an outflow beyond the lot's free stock too
(`insufficient_stock`); adjustments and write-offs need a reason (`reason_required`); only an
available lot is released (`lot_not_available`). Nothing is written when one is refused."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal

from django.db import transaction

from vault.accounts.models import User
from vault.core.numbers import parse_quantity
from vault.inventory.models import Lot, Movement, Site
from vault.inventory.parsing import movement_kind_check, reason_required
from vault.inventory.services._common import (
    ZERO,
    Change,
    available_check,
    business_date_check,
    changes_apply,
    lots_lock,
    movement_record,
    movements_post,
)
from vault.inventory.services.transfers import movement_transfer
from vault.ledger import chart


def _one_lot_movement(
    *,
    kind: str,
    lot: Lot,
    delta: Decimal,
    by: User,
    reason: str,
    reference: str,
    contra: str | None = None,
    business_date: date | None = None,
    reserved_delta: Decimal = ZERO,
    available_only: bool = False,
) -> Movement:
    """Lock the lot (refusing an unavailable one when `available_only`), check the business
    date (`business_date_check`: today by default), change its stock by `delta` (and its
    reserved by `reserved_delta`; an inflow beyond its site's capacity refused), record the
    movement and post its value on that date (against `contra`, or the kind's own account): the
    one body of receipts, adjustments, write-offs and releases."""
    lot = lots_lock(lot)[lot.pk]
    if available_only:
        available_check(lot, verb="released")
    day = business_date_check(business_date, lot=lot)
    change = Change(lot, delta, reserved_delta)
    after = changes_apply([change], on=day)
    movement = movement_record(
        kind=kind, change=change, after=after, by=by, business_date=day, reason=reason, reference=reference
    )
    movements_post([movement], by=by, contra=contra)
    return movement


@transaction.atomic
def movement_receipt(
    *,
    lot: Lot,
    quantity: Decimal,
    by: User,
    reason: str = "",
    reference: str = "",
    contra_account: str = chart.CASH,
    business_date: date | None = None,
) -> Movement:
    """Receive material into a lot (Dr inventory at the lot's unit cost / Cr `contra_account`,
    cash by default) on `business_date` (today by default; every movement service takes one,
    refused in the future, before the lot's received date and in a closed period). Refused
    beyond the site's capacity."""
    return _one_lot_movement(
        kind=Movement.Kind.RECEIPT,
        lot=lot,
        delta=parse_quantity(quantity),
        by=by,
        reason=reason,
        reference=reference,
        contra=contra_account,
        business_date=business_date,
    )


@transaction.atomic
def movement_adjust(
    *, lot: Lot, quantity: Decimal, by: User, reason: str, reference: str = "", business_date: date | None = None
) -> Movement:
    """Correct a lot after a count or an assay by a signed quantity; a reason is required. An
    increase is refused beyond the site's capacity."""
    quantity = parse_quantity(quantity, allow_negative=True)
    reason_required(reason, message="An adjustment needs a reason (count, assay...).")
    return _one_lot_movement(
        kind=Movement.Kind.ADJUSTMENT,
        lot=lot,
        delta=quantity,
        by=by,
        reason=reason,
        reference=reference,
        business_date=business_date,
    )


@transaction.atomic
def movement_write_off(
    *, lot: Lot, quantity: Decimal, by: User, reason: str, reference: str = "", business_date: date | None = None
) -> Movement:
    """Write material off (lost, damaged beyond use); a reason is required."""
    quantity = parse_quantity(quantity)
    reason_required(reason, message="A write-off needs a reason.")
    return _one_lot_movement(
        kind=Movement.Kind.WRITE_OFF,
        lot=lot,
        delta=-quantity,
        by=by,
        reason=reason,
        reference=reference,
        business_date=business_date,
    )


@transaction.atomic
def movement_release(
    *,
    lot: Lot,
    quantity: Decimal,
    by: User,
    reason: str = "",
    reference: str = "",
    from_reserved: bool = False,
    business_date: date | None = None,
) -> Movement:
    """Issue material out of the stockpile. Only from an available lot (`lot_not_available`);
    unless `from_reserved` (a drawdown fulfilling its own reservation), reserved stock is
    untouched."""
    quantity = parse_quantity(quantity)
    return _one_lot_movement(
        kind=Movement.Kind.RELEASE,
        lot=lot,
        delta=-quantity,
        by=by,
        reason=reason,
        reference=reference,
        reserved_delta=-quantity if from_reserved else ZERO,
        available_only=True,
        business_date=business_date,
    )


_DISPATCH: dict[str, Callable[..., Movement]] = {
    Movement.Kind.RECEIPT: movement_receipt,
    Movement.Kind.ADJUSTMENT: movement_adjust,
    Movement.Kind.WRITE_OFF: movement_write_off,
    Movement.Kind.RELEASE: movement_release,
    Movement.Kind.TRANSFER: movement_transfer,
}
CREATABLE_KINDS = [kind for kind in Movement.Kind if kind in _DISPATCH]


def movement_create(
    *,
    kind: str,
    lot: Lot,
    quantity: Decimal,
    by: User,
    reason: str = "",
    to_site: Site | None = None,
    reference: str = "",
    business_date: date | None = None,
) -> Movement:
    """One entry point for the API and the admin: dispatches on `kind`. An unknown kind raises
    InvalidInput (`movement_kind_unknown`), a transfer without `to_site` (`to_site_required`)
    and another kind with one (`to_site_not_allowed`) too."""
    movement_kind_check(kind, creatable=CREATABLE_KINDS, has_to_site=to_site is not None)
    extra = {"to_site": to_site} if to_site is not None else {}
    return _DISPATCH[kind](
        lot=lot,
        quantity=quantity,
        by=by,
        reason=reason or "",
        reference=reference or "",
        business_date=business_date,
        **extra,
    )
