"""Reservations of stock (used by drawdowns): no movement and no journal entry, only the lot's
and the position's `reserved`, under the lot's lock. Guarantees: only free stock of an
available lot is reserved (`insufficient_stock`, `lot_not_available`); no more than is
reserved is given back (`insufficient_stock`)."""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction

from vault.core.numbers import parse_quantity
from vault.inventory.models import Lot
from vault.inventory.services._common import ZERO, Change, available_check, changes_apply, lots_lock


@transaction.atomic
def lot_reserve(*, lot: Lot, quantity: Decimal) -> Lot:
    """Reserve free stock of an available lot. Raises InsufficientStock (409) when short."""
    quantity = parse_quantity(quantity)
    lot = lots_lock(lot)[lot.pk]
    available_check(lot, verb="reserved")
    changes_apply([Change(lot, ZERO, quantity)])
    return lot


@transaction.atomic
def lot_unreserve(*, lot: Lot, quantity: Decimal) -> Lot:
    """Give back reserved stock (a cancelled or reduced drawdown)."""
    quantity = parse_quantity(quantity)
    lot = lots_lock(lot)[lot.pk]
    changes_apply([Change(lot, ZERO, -quantity)])
    return lot
