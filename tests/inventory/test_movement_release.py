from decimal import Decimal

import pytest

from tests.inventory.invariants import assert_holdings_consistent, postings
from vault.core.errors import Conflict, InsufficientStock, InvalidInput
from vault.inventory.models import Lot, Position
from vault.inventory.services import lot_reserve, lot_set_status, movement_release
from vault.ledger import chart


def test_release_costs_the_lot_value(lot, manager):
    movement = movement_release(lot=lot, quantity=Decimal("100"), by=manager, reference="DD-1")
    assert (movement.kind, movement.quantity, movement.balance_after, movement.reference) == (
        "release",
        Decimal("-100"),
        Decimal("900"),
        "DD-1",
    )
    assert postings(movement) == {chart.COST_OF_RELEASES: Decimal("5000.00"), chart.INVENTORY: Decimal("-5000.00")}
    assert_holdings_consistent()


@pytest.mark.parametrize("status", [Lot.Status.QUARANTINE, Lot.Status.DAMAGED])
def test_only_available_lots_are_released(lot, manager, status, unchanged):
    lot = lot_set_status(lot=lot, status=status, by=manager)
    with unchanged(), pytest.raises(Conflict) as exc:
        movement_release(lot=lot, quantity=Decimal("1"), by=manager)
    assert exc.value.field == "lot"


def test_reserved_stock_is_not_released_by_others(lot, manager, unchanged):
    lot_reserve(lot=lot, quantity=Decimal("700"))
    with unchanged(), pytest.raises(InsufficientStock):
        movement_release(lot=lot, quantity=Decimal("300.001"), by=manager)
    movement_release(lot=lot, quantity=Decimal("300"), by=manager)
    lot.refresh_from_db()
    assert (lot.on_hand, lot.reserved) == (Decimal("700"), Decimal("700"))
    assert_holdings_consistent()


def test_from_reserved_consumes_the_reservation(lot, manager):
    lot_reserve(lot=lot, quantity=Decimal("400"))
    movement_release(lot=lot, quantity=Decimal("250"), by=manager, from_reserved=True)
    lot.refresh_from_db()
    assert (lot.on_hand, lot.reserved) == (Decimal("750"), Decimal("150"))
    position = Position.objects.get(material=lot.material, site=lot.site)
    assert (position.on_hand, position.reserved, position.available) == (Decimal("750"), Decimal("150"), Decimal("600"))
    assert_holdings_consistent()


def test_from_reserved_cannot_exceed_the_reservation(lot, manager, unchanged):
    lot_reserve(lot=lot, quantity=Decimal("10"))
    with unchanged(), pytest.raises(InsufficientStock):
        movement_release(lot=lot, quantity=Decimal("10.001"), by=manager, from_reserved=True)


def test_cannot_release_more_than_on_hand(lot, manager, unchanged):
    with unchanged(), pytest.raises(InsufficientStock) as exc:
        movement_release(lot=lot, quantity=Decimal("1000.001"), by=manager)
    assert exc.value.extra["lot"] == lot.lot_number


@pytest.mark.parametrize("quantity", ["0", "-1", "0.0001"])
def test_bad_quantity(lot, manager, quantity, unchanged):
    with unchanged(), pytest.raises(InvalidInput):
        movement_release(lot=lot, quantity=Decimal(quantity), by=manager)
