from decimal import Decimal

import pytest

from tests.inventory.invariants import assert_holdings_consistent, postings
from vault.core.errors import InsufficientStock, InvalidInput
from vault.inventory.services import lot_reserve, movement_adjust
from vault.ledger import chart


def test_count_gain_is_income(lot, manager):
    movement = movement_adjust(lot=lot, quantity=Decimal("2.5"), by=manager, reason="Annual count")
    assert (movement.kind, movement.quantity, movement.balance_after, movement.reason) == (
        "adjustment",
        Decimal("2.5"),
        Decimal("1002.5"),
        "Annual count",
    )
    assert postings(movement) == {chart.INVENTORY: Decimal("125.00"), chart.INVENTORY_ADJUSTMENTS: Decimal("-125.00")}
    assert_holdings_consistent()


def test_assay_loss_is_a_negative_adjustment(lot, manager):
    movement = movement_adjust(lot=lot, quantity=Decimal("-10"), by=manager, reason="Assay: lower purity")
    assert movement.quantity == Decimal("-10")
    assert movement.balance_after == Decimal("990")
    assert postings(movement) == {chart.INVENTORY: Decimal("-500.00"), chart.INVENTORY_ADJUSTMENTS: Decimal("500.00")}
    assert_holdings_consistent()


@pytest.mark.parametrize("reason", ["", "   "])
def test_reason_is_required(lot, manager, reason, unchanged):
    with unchanged(), pytest.raises(InvalidInput) as exc:
        movement_adjust(lot=lot, quantity=Decimal("1"), by=manager, reason=reason)
    assert exc.value.field == "reason"


@pytest.mark.parametrize("quantity", ["0", "0.0005"])
def test_zero_or_sub_gram_is_refused(lot, manager, quantity, unchanged):
    with unchanged(), pytest.raises(InvalidInput) as exc:
        movement_adjust(lot=lot, quantity=Decimal(quantity), by=manager, reason="count")
    assert exc.value.field == "quantity"


def test_cannot_adjust_below_zero(lot, manager, unchanged):
    with unchanged(), pytest.raises(InsufficientStock):
        movement_adjust(lot=lot, quantity=Decimal("-1000.001"), by=manager, reason="count")
    movement_adjust(lot=lot, quantity=Decimal("-1000"), by=manager, reason="count")
    assert_holdings_consistent()


def test_cannot_adjust_reserved_stock_away(lot, manager, unchanged):
    lot_reserve(lot=lot, quantity=Decimal("600"))
    with unchanged(), pytest.raises(InsufficientStock):
        movement_adjust(lot=lot, quantity=Decimal("-401"), by=manager, reason="count")


def test_positive_adjustment_respects_capacity(make_lot, capped_site, manager, unchanged):
    lot = make_lot("1500", site=capped_site)
    with unchanged(), pytest.raises(InvalidInput) as exc:
        movement_adjust(lot=lot, quantity=Decimal("1"), by=manager, reason="count")
    assert exc.value.field == "quantity"
    movement_adjust(lot=lot, quantity=Decimal("-1"), by=manager, reason="count")  # a loss always fits
