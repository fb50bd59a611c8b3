from decimal import Decimal

import pytest

from tests.inventory.invariants import assert_holdings_consistent, postings
from vault.core.errors import InvalidInput
from vault.inventory.models import Lot, Position
from vault.inventory.services import lot_set_status, movement_receipt
from vault.inventory.signals import stock_changed
from vault.ledger import chart


def test_receipt_adds_to_lot_position_and_inventory_account(lot, manager):
    movement = movement_receipt(lot=lot, quantity=Decimal("250.125"), by=manager, reference="PO-7")
    lot.refresh_from_db()
    assert lot.on_hand == Decimal("1250.125")
    assert (movement.kind, movement.quantity, movement.balance_after) == (
        "receipt",
        Decimal("250.125"),
        Decimal("1250.125"),
    )
    assert movement.value == Decimal("12506.25")  # 250.125 kg x 50 USD
    assert (movement.material_id, movement.site_id, movement.reference) == (lot.material_id, lot.site_id, "PO-7")
    assert postings(movement) == {chart.INVENTORY: Decimal("12506.25"), chart.CASH: Decimal("-12506.25")}
    assert Position.objects.get(material=lot.material, site=lot.site).on_hand == Decimal("1250.125")
    assert_holdings_consistent()


def test_contra_account_is_credited(lot, manager):
    movement = movement_receipt(lot=lot, quantity=Decimal("2"), by=manager, contra_account=chart.RECEIVABLES)
    assert postings(movement) == {chart.INVENTORY: Decimal("100.00"), chart.RECEIVABLES: Decimal("-100.00")}


@pytest.mark.parametrize("quantity", ["0", "-1", "0.0001", "1.2345"])
def test_bad_quantities_are_refused(lot, manager, quantity, unchanged):
    with unchanged(), pytest.raises(InvalidInput) as exc:
        movement_receipt(lot=lot, quantity=Decimal(quantity), by=manager)
    assert exc.value.field == "quantity"


@pytest.mark.parametrize("quantity", [Decimal("NaN"), Decimal("Infinity"), Decimal("1e16")])
def test_non_finite_or_huge_quantities_are_refused(lot, manager, quantity, unchanged):
    with unchanged(), pytest.raises(InvalidInput) as exc:
        movement_receipt(lot=lot, quantity=quantity, by=manager)
    assert exc.value.field == "quantity"


def test_capacity_counts_every_material_at_the_site(make_lot, capped_site, other_material, manager, unchanged):
    first = make_lot("1000", site=capped_site)
    make_lot("400", site=capped_site, material=other_material)
    movement_receipt(lot=first, quantity=Decimal("100"), by=manager)  # exactly full: 1,500 kg
    with unchanged(), pytest.raises(InvalidInput) as exc:
        movement_receipt(lot=first, quantity=Decimal("0.001"), by=manager)
    assert exc.value.field == "quantity"
    assert "DEPOT-CAP" in exc.value.message
    assert_holdings_consistent()


def test_receipt_into_quarantined_lot_is_unavailable(lot, manager):
    lot = lot_set_status(lot=lot, status=Lot.Status.QUARANTINE, by=manager)
    movement_receipt(lot=lot, quantity=Decimal("5"), by=manager)
    position = Position.objects.get(material=lot.material, site=lot.site)
    assert (position.on_hand, position.unavailable, position.available) == (Decimal("1005"), Decimal("1005"), 0)
    assert_holdings_consistent()


def test_stock_changed_is_sent_after_commit(lot, manager, django_capture_on_commit_callbacks):
    received = []

    def listener(sender, material_id, quantity, **kwargs):
        received.append((material_id, quantity))

    stock_changed.connect(listener)
    try:
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            movement_receipt(lot=lot, quantity=Decimal("7"), by=manager)
        assert received == []  # nothing before commit
        for callback in callbacks:
            callback()
    finally:
        stock_changed.disconnect(listener)
    assert received == [(lot.material_id, Decimal("7"))]


def test_refused_receipt_sends_no_signal(lot, manager, capped_site, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks, pytest.raises(InvalidInput):
        movement_receipt(lot=lot, quantity=Decimal("-1"), by=manager)
    assert callbacks == []
