"""Reversals: the one way to undo a movement.

Guarantees: a reversal is an opposite movement pointing at the original (`reverses`), one per
leg for a transfer, with the original's journal entry reversed and any rounding the lot's value
has taken since posted apart, so that the inventory account still equals the stock at cost. A
movement is reversed at most once (`already_reversed`, checked under the lots' locks, so that
two concurrent reversals cannot both pass); a reversal is final (`reversal_not_reversible`); a
reason is required (`reason_required`); the capacity and free-stock rules of any movement hold."""

from __future__ import annotations

from datetime import date, timedelta

from django.db import transaction
from django.utils import timezone

from vault.accounts.models import User
from vault.core.errors import Conflict, InvalidInput
from vault.inventory.models import Movement
from vault.inventory.parsing import reason_required
from vault.inventory.selectors import movement_legs
from vault.inventory.services._common import (
    ZERO,
    Change,
    business_date_check,
    changes_apply,
    lots_lock,
    movement_record,
    movements_post,
)
from vault.ledger import chart
from vault.ledger import selectors as ledger_selectors
from vault.ledger.models import JournalEntry
from vault.ledger.services import entry_reverse


def _reversible_check(movement: Movement) -> None:
    if movement.kind == Movement.Kind.REVERSAL:
        raise Conflict(
            "A reversal cannot itself be reversed; record a new movement instead.",
            field="movement",
            code="reversal_not_reversible",
        )


def _reversal_day(movement: Movement, day: date | None) -> date:
    """The business date of the reversal of `movement` asked for on `day` (today by default):
    never before the original's (InvalidInput `reversal_before_original`), moved to the first
    open day when in a closed period (as the ledger's `reversal_date` does for its entry)."""
    if day is not None and day < movement.business_date:
        raise InvalidInput(
            f"A reversal cannot be dated {day}, before movement {movement.pk} itself ({movement.business_date}).",
            field="business_date",
            code="reversal_before_original",
        )
    day = timezone.localdate() if day is None else day
    closed = ledger_selectors.closed_through()
    return max(day, closed + timedelta(days=1)) if closed is not None else day


def _entries_reverse(*, legs: list[Movement], movement: Movement, by: User, reason: str, day: date) -> None:
    """Reverse the journal entries the legs posted (not reversed yet), oldest first, on `day`."""
    originals = JournalEntry.objects.filter(
        source_type="movement", source_id__in=[leg.pk for leg in legs], reverses__isnull=True
    ).order_by("pk")
    for entry in originals:
        entry_reverse(entry=entry, date=day, by=by, memo=f"Reversal of movement {movement.pk}: {reason}")


def _rounding_post(*, reversals: list[Movement], legs: list[Movement], movement: Movement, by: User) -> None:
    """Other movements since the original may have moved the lot's rounding by a cent: post the
    difference so that the inventory account still equals the stock at cost."""
    rounding = sum((m.value for m in reversals), ZERO) + sum((leg.value for leg in legs), ZERO)
    if rounding:
        movements_post(
            reversals,
            by=by,
            contra=chart.INVENTORY_ADJUSTMENTS,
            net=rounding,
            memo=f"Rounding on reversal of movement {movement.pk}",
        )


@transaction.atomic
def movement_reverse(*, movement: Movement, by: User, reason: str, business_date: date | None = None) -> Movement:
    """Undo a movement with an opposite one pointing at it (both legs of a transfer), and
    reverse its journal entry, on `business_date` (today by default; moved to the first open day
    when in a closed period; never before the original nor in the future); returns the reversal
    of `movement` itself. A movement is reversed at most once (Conflict `already_reversed`);
    reversals are final (`reversal_not_reversible`)."""
    reason_required(reason, message="A reversal needs a reason.")
    _reversible_check(movement)
    legs = movement_legs(movement=movement)
    locked = lots_lock(*(leg.lot for leg in legs))
    if Movement.objects.filter(reverses__in=legs).exists():  # under the lots' locks
        raise Conflict(f"Movement {movement.pk} is already reversed.", field="movement", code="already_reversed")
    day = business_date_check(_reversal_day(movement, business_date))
    changes = [Change(locked[leg.lot_id], -leg.quantity) for leg in legs]
    after = changes_apply(changes, on=day)
    reversals = [
        movement_record(
            kind=Movement.Kind.REVERSAL,
            change=change,
            after=after,
            by=by,
            business_date=day,
            reason=reason,
            reference=f"reverses #{leg.pk}",
            reverses=leg,
        )
        for change, leg in zip(changes, legs, strict=True)
    ]
    _entries_reverse(legs=legs, movement=movement, by=by, reason=reason, day=day)
    _rounding_post(reversals=reversals, legs=legs, movement=movement, by=by)
    return reversals[0]
