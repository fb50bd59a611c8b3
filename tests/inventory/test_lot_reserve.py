from decimal import Decimal

import pytest

from tests.inventory.invariants import assert_holdings_consistent
from vault.core.errors import Conflict, InsufficientStock, InvalidInput
from vault.inventory.models import Lot, Movement, Position
from vault.inventory.services import lot_reserve, lot_set_status, lot_unreserve


def test_reserve_and_unreserve_move_available(lot):
    lot = lot_reserve(lot=lot, quantity=Decimal("250"))
    assert (lot.on_hand, lot.reserved) == (Decimal("1000"), Decimal("250"))
    position = Position.objects.get(material=lot.material, site=lot.site)
    assert (position.reserved, position.available) == (Decimal("250"), Decimal("750"))
    assert not Movement.objects.exclude(kind="receipt").exists()  # reservations are not movements
    lot = lot_unreserve(lot=lot, quantity=Decimal("100"))
    position.refresh_from_db()
    assert (lot.reserved, position.reserved, position.available) == (Decimal("150"), Decimal("150"), Decimal("850"))
    assert_holdings_consistent()


def test_cannot_reserve_more_than_free(lot, unchanged):
    lot_reserve(lot=lot, quantity=Decimal("999"))
    with unchanged(), pytest.raises(InsufficientStock):
        lot_reserve(lot=lot, quantity=Decimal("1.001"))
    lot_reserve(lot=lot, quantity=Decimal("1"))


def test_cannot_unreserve_more_than_reserved(lot, unchanged):
    lot_reserve(lot=lot, quantity=Decimal("5"))
    with unchanged(), pytest.raises(InsufficientStock):
        lot_unreserve(lot=lot, quantity=Decimal("5.001"))


def test_only_available_lots_are_reserved(lot, manager, unchanged):
    lot_set_status(lot=lot, status=Lot.Status.QUARANTINE, by=manager)
    with unchanged(), pytest.raises(Conflict):
        lot_reserve(lot=lot, quantity=Decimal("1"))


@pytest.mark.parametrize("quantity", ["0", "-1", "0.0001"])
def test_bad_quantity(lot, quantity, unchanged):
    with unchanged(), pytest.raises(InvalidInput):
        lot_reserve(lot=lot, quantity=Decimal(quantity))
