from decimal import Decimal

import pytest

from tests.factories import LotFactory, SiteFactory
from tests.inventory.invariants import assert_holdings_consistent
from vault.core.errors import Conflict, InsufficientStock, InvalidInput
from vault.inventory.models import Lot, Movement, Position
from vault.inventory.services import lot_reserve, lot_set_status, movement_transfer
from vault.ledger.models import JournalEntry


def test_first_transfer_creates_the_destination_lot(lot, other_site, manager):
    out_leg = movement_transfer(lot=lot, quantity=Decimal("300"), to_site=other_site, by=manager, reason="rebalance")
    destination = Lot.objects.get(site=other_site)
    assert destination.lot_number == f"{lot.lot_number}@DEPOT-B"
    assert destination.parent == lot
    for field in ("material_id", "mining_country", "processing_country", "supplier", "received_date", "unit_cost"):
        assert getattr(destination, field) == getattr(lot, field)
    in_leg = out_leg.counterpart
    assert (out_leg.kind, out_leg.lot, out_leg.quantity, out_leg.balance_after) == (
        "transfer",
        lot,
        Decimal("-300"),
        Decimal("700"),
    )
    assert (in_leg.kind, in_leg.lot, in_leg.quantity, in_leg.balance_after) == (
        "transfer",
        destination,
        Decimal("300"),
        Decimal("300"),
    )
    assert out_leg.value == -in_leg.value == Decimal("-15000.00")
    # Same cost on both sides: nothing to post.
    assert not JournalEntry.objects.filter(source_type="movement", source_id=out_leg.pk).exists()
    assert Position.objects.get(site=lot.site).on_hand == Decimal("700")
    assert Position.objects.get(site=other_site).on_hand == Decimal("300")
    assert_holdings_consistent()


def test_later_transfers_reuse_the_destination_lot(lot, other_site, manager):
    movement_transfer(lot=lot, quantity=Decimal("100"), to_site=other_site, by=manager)
    second = movement_transfer(lot=lot, quantity=Decimal("50"), to_site=other_site, by=manager)
    assert Lot.objects.filter(site=other_site).count() == 1
    assert second.counterpart.balance_after == Decimal("150")
    assert_holdings_consistent()


def test_transfer_back_returns_to_the_root_lot(lot, other_site, manager):
    out_leg = movement_transfer(lot=lot, quantity=Decimal("100"), to_site=other_site, by=manager)
    child = out_leg.counterpart.lot
    back = movement_transfer(lot=child, quantity=Decimal("40"), to_site=lot.site, by=manager)
    assert back.counterpart.lot == lot
    assert Lot.objects.count() == 2
    lot.refresh_from_db()
    child.refresh_from_db()
    assert (lot.on_hand, child.on_hand) == (Decimal("940"), Decimal("60"))
    assert_holdings_consistent()


def test_onward_transfer_hangs_off_the_root_lot(lot, other_site, manager):
    third = SiteFactory(code="DEPOT-C")
    child = movement_transfer(lot=lot, quantity=Decimal("100"), to_site=other_site, by=manager).counterpart.lot
    grandchild = movement_transfer(lot=child, quantity=Decimal("30"), to_site=third, by=manager).counterpart.lot
    assert grandchild.lot_number == f"{lot.lot_number}@DEPOT-C"
    assert grandchild.parent == lot
    assert_holdings_consistent()


def test_transfer_to_the_same_site_is_refused(lot, manager, unchanged):
    with unchanged(), pytest.raises(InvalidInput) as exc:
        movement_transfer(lot=lot, quantity=Decimal("1"), to_site=lot.site, by=manager)
    assert exc.value.field == "to_site"


def test_short_transfer_writes_nothing_not_even_the_destination_lot(lot, other_site, manager, unchanged):
    with unchanged(), pytest.raises(InsufficientStock):
        movement_transfer(lot=lot, quantity=Decimal("1000.001"), to_site=other_site, by=manager)
    assert Lot.objects.count() == 1


def test_reserved_stock_does_not_leave(lot, other_site, manager, unchanged):
    lot_reserve(lot=lot, quantity=Decimal("900"))
    with unchanged(), pytest.raises(InsufficientStock):
        movement_transfer(lot=lot, quantity=Decimal("101"), to_site=other_site, by=manager)
    movement_transfer(lot=lot, quantity=Decimal("100"), to_site=other_site, by=manager)
    assert_holdings_consistent()


def test_destination_capacity_is_enforced(lot, capped_site, manager, make_lot, other_material, unchanged):
    make_lot("1000", site=capped_site, material=other_material)
    with unchanged(), pytest.raises(InvalidInput) as exc:
        movement_transfer(lot=lot, quantity=Decimal("500.001"), to_site=capped_site, by=manager)
    assert exc.value.field == "quantity"
    assert not Lot.objects.filter(site=capped_site, material=lot.material).exists()
    movement_transfer(lot=lot, quantity=Decimal("500"), to_site=capped_site, by=manager)
    assert_holdings_consistent()


def test_quarantined_stock_stays_unavailable_at_the_destination(lot, other_site, manager):
    lot = lot_set_status(lot=lot, status=Lot.Status.QUARANTINE, by=manager)
    out_leg = movement_transfer(lot=lot, quantity=Decimal("200"), to_site=other_site, by=manager)
    assert out_leg.counterpart.lot.status == Lot.Status.QUARANTINE
    assert Position.objects.get(site=other_site).unavailable == Decimal("200")
    assert Position.objects.get(site=lot.site).unavailable == Decimal("800")
    assert_holdings_consistent()


def test_a_lot_number_taken_by_an_unrelated_lot_is_a_conflict(lot, other_site, other_material, manager, unchanged):
    LotFactory(lot_number=f"{lot.lot_number}@DEPOT-B", material=other_material, site=other_site, by=manager)
    with unchanged(), pytest.raises(Conflict) as exc:
        movement_transfer(lot=lot, quantity=Decimal("1"), to_site=other_site, by=manager)
    assert exc.value.field == "to_site"


def test_unit_cost_rounding_is_posted(manager, material, site, other_site):
    # 0.333 kg at 0.015 USD/kg: the source's rounded value drops by 0.01, the destination's rises by 0.00.
    lot = LotFactory(material=material, site=site, initial_quantity="1.000", unit_cost="0.015", by=manager)
    out_leg = movement_transfer(lot=lot, quantity=Decimal("0.333"), to_site=other_site, by=manager)
    assert out_leg.value + out_leg.counterpart.value != 0
    assert Movement.objects.filter(kind="transfer").count() == 2
    assert_holdings_consistent()
