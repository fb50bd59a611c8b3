from decimal import Decimal

import pytest

from tests.factories import LotFactory
from tests.inventory.invariants import assert_holdings_consistent, postings
from vault.core.errors import Conflict, InsufficientStock, InvalidInput
from vault.inventory.models import Lot, Movement
from vault.inventory.services import (
    lot_reserve,
    lot_set_status,
    movement_adjust,
    movement_receipt,
    movement_release,
    movement_reverse,
    movement_transfer,
    movement_write_off,
)
from vault.ledger import chart
from vault.ledger.models import JournalEntry


def test_reversing_a_receipt_takes_it_back_out_and_reverses_its_entry(lot, manager):
    receipt = movement_receipt(lot=lot, quantity=Decimal("20"), by=manager)
    reversal = movement_reverse(movement=receipt, by=manager, reason="Keyed twice")
    assert (reversal.kind, reversal.quantity, reversal.balance_after, reversal.reverses) == (
        "reversal",
        Decimal("-20"),
        Decimal("1000"),
        receipt,
    )
    assert reversal.reason == "Keyed twice"
    original = JournalEntry.objects.get(source_type="movement", source_id=receipt.pk, reverses__isnull=True)
    mirror = JournalEntry.objects.get(reverses=original)
    assert {(line.account.code, line.debit, line.credit) for line in mirror.lines.all()} == {
        (chart.CASH, Decimal("1000.00"), 0),
        (chart.INVENTORY, 0, Decimal("1000.00")),
    }
    assert_holdings_consistent()


@pytest.mark.parametrize(
    "record",
    [
        lambda lot, by: movement_release(lot=lot, quantity=Decimal("5"), by=by),
        lambda lot, by: movement_write_off(lot=lot, quantity=Decimal("5"), by=by, reason="x"),
        lambda lot, by: movement_adjust(lot=lot, quantity=Decimal("-5"), by=by, reason="x"),
        lambda lot, by: movement_adjust(lot=lot, quantity=Decimal("5"), by=by, reason="x"),
    ],
    ids=["release", "write_off", "adjustment_down", "adjustment_up"],
)
def test_every_kind_reverses_to_the_original_balance(lot, manager, record):
    movement = record(lot, manager)
    movement_reverse(movement=movement, by=manager, reason="mistake")
    lot.refresh_from_db()
    assert lot.on_hand == Decimal("1000")
    assert_holdings_consistent()


def test_a_movement_is_reversed_once_only(lot, manager, unchanged):
    release = movement_release(lot=lot, quantity=Decimal("5"), by=manager)
    movement_reverse(movement=release, by=manager, reason="mistake")
    with unchanged(), pytest.raises(Conflict) as exc:
        movement_reverse(movement=release, by=manager, reason="again")
    assert exc.value.field == "movement"


def test_a_reversal_cannot_be_reversed(lot, manager, unchanged):
    release = movement_release(lot=lot, quantity=Decimal("5"), by=manager)
    reversal = movement_reverse(movement=release, by=manager, reason="mistake")
    with unchanged(), pytest.raises(Conflict):
        movement_reverse(movement=reversal, by=manager, reason="undo the undo")


def test_reason_is_required(lot, manager, unchanged):
    release = movement_release(lot=lot, quantity=Decimal("5"), by=manager)
    with unchanged(), pytest.raises(InvalidInput) as exc:
        movement_reverse(movement=release, by=manager, reason="")
    assert exc.value.field == "reason"


@pytest.mark.parametrize("leg", ["out", "in"])
def test_reversing_either_leg_of_a_transfer_reverses_both(lot, other_site, manager, leg):
    out_leg = movement_transfer(lot=lot, quantity=Decimal("300"), to_site=other_site, by=manager)
    in_leg = out_leg.counterpart
    movement_reverse(movement=out_leg if leg == "out" else in_leg, by=manager, reason="wrong depot")
    reversals = Movement.objects.filter(kind="reversal")
    assert {r.reverses_id for r in reversals} == {out_leg.pk, in_leg.pk}
    lot.refresh_from_db()
    in_leg.lot.refresh_from_db()
    assert (lot.on_hand, in_leg.lot.on_hand) == (Decimal("1000"), 0)
    with pytest.raises(Conflict):
        movement_reverse(movement=in_leg if leg == "out" else out_leg, by=manager, reason="again")
    assert_holdings_consistent()


def test_cannot_reverse_a_receipt_whose_stock_has_left(lot, manager, unchanged):
    receipt = lot.movements.get()
    movement_release(lot=lot, quantity=Decimal("1"), by=manager)
    with unchanged(), pytest.raises(InsufficientStock):
        movement_reverse(movement=receipt, by=manager, reason="oops")


def test_cannot_reverse_into_reserved_stock(lot, manager, unchanged):
    receipt = movement_receipt(lot=lot, quantity=Decimal("10"), by=manager)
    lot_reserve(lot=lot, quantity=Decimal("1005"))
    with unchanged(), pytest.raises(InsufficientStock):
        movement_reverse(movement=receipt, by=manager, reason="oops")


def test_reversing_an_outflow_respects_capacity(make_lot, capped_site, manager, unchanged):
    lot = make_lot("1500", site=capped_site)
    write_off = movement_write_off(lot=lot, quantity=Decimal("10"), by=manager, reason="lost")
    movement_receipt(lot=lot, quantity=Decimal("10"), by=manager)
    with unchanged(), pytest.raises(InvalidInput) as exc:
        movement_reverse(movement=write_off, by=manager, reason="found it")
    assert exc.value.field == "quantity"


def test_reversing_a_release_from_reservation_returns_stock_not_the_reservation(lot, manager):
    lot_reserve(lot=lot, quantity=Decimal("100"))
    release = movement_release(lot=lot, quantity=Decimal("100"), by=manager, from_reserved=True)
    movement_reverse(movement=release, by=manager, reason="returned")
    lot.refresh_from_db()
    assert (lot.on_hand, lot.reserved) == (Decimal("1000"), 0)
    assert_holdings_consistent()


def test_reversal_on_a_quarantined_lot_stays_unavailable(lot, manager):
    release = movement_release(lot=lot, quantity=Decimal("100"), by=manager)
    lot_set_status(lot=lot, status=Lot.Status.QUARANTINE, by=manager)
    movement_reverse(movement=release, by=manager, reason="returned")
    assert_holdings_consistent()


def test_rounding_drift_since_the_original_is_posted(manager, material, site):
    # At 0.005 USD/kg the first kilogram is worth 0.01 and the second adds nothing; reversing the
    # first receipt afterwards leaves 1 kg still worth 0.01, so the reversal posts +0.01 back.
    lot = LotFactory(material=material, site=site, initial_quantity="1", unit_cost="0.005", by=manager)
    first = lot.movements.get()
    second = movement_receipt(lot=lot, quantity=Decimal("1"), by=manager)
    assert (first.value, second.value) == (Decimal("0.01"), Decimal("0.00"))
    reversal = movement_reverse(movement=first, by=manager, reason="duplicate")
    assert reversal.value == 0
    assert postings(reversal) == {chart.INVENTORY: Decimal("0.01"), chart.INVENTORY_ADJUSTMENTS: Decimal("-0.01")}
    assert_holdings_consistent()
