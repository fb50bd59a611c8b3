from decimal import Decimal

import pytest

from tests.inventory.invariants import assert_holdings_consistent, postings
from vault.core.errors import InsufficientStock, InvalidInput
from vault.inventory.models import Lot, Position
from vault.inventory.services import lot_reserve, lot_set_status, movement_write_off
from vault.ledger import chart


def test_write_off_is_an_expense(lot, manager):
    movement = movement_write_off(lot=lot, quantity=Decimal("12.345"), by=manager, reason="Water damage")
    assert (movement.kind, movement.quantity, movement.balance_after) == (
        "write_off",
        Decimal("-12.345"),
        Decimal("987.655"),
    )
    assert postings(movement) == {chart.WRITE_OFFS: Decimal("617.25"), chart.INVENTORY: Decimal("-617.25")}
    assert_holdings_consistent()


def test_reason_is_required(lot, manager, unchanged):
    with unchanged(), pytest.raises(InvalidInput) as exc:
        movement_write_off(lot=lot, quantity=Decimal("1"), by=manager, reason=" ")
    assert exc.value.field == "reason"


@pytest.mark.parametrize("quantity", ["0", "-3", "1.0001"])
def test_quantity_must_be_positive_grams(lot, manager, quantity, unchanged):
    with unchanged(), pytest.raises(InvalidInput) as exc:
        movement_write_off(lot=lot, quantity=Decimal(quantity), by=manager, reason="lost")
    assert exc.value.field == "quantity"


def test_cannot_write_off_more_than_free_stock(lot, manager, unchanged):
    lot_reserve(lot=lot, quantity=Decimal("1"))
    with unchanged(), pytest.raises(InsufficientStock) as exc:
        movement_write_off(lot=lot, quantity=Decimal("1000"), by=manager, reason="lost")
    assert exc.value.field == "quantity"


def test_damaged_lot_can_be_written_off(lot, manager):
    lot = lot_set_status(lot=lot, status=Lot.Status.DAMAGED, by=manager)
    movement_write_off(lot=lot, quantity=Decimal("1000"), by=manager, reason="Destroyed")
    position = Position.objects.get(material=lot.material, site=lot.site)
    assert (position.on_hand, position.unavailable, position.available) == (0, 0, 0)
    assert_holdings_consistent()
