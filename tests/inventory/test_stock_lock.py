from decimal import Decimal

from tests.inventory.invariants import assert_holdings_consistent
from vault.inventory.models import Lot, Position
from vault.inventory.services import lot_set_status, movement_receipt, movement_release, stock_lock


def test_returns_fresh_lots_by_id(make_lot, other_site, manager):
    a, b = make_lot("10"), make_lot("20", site=other_site)
    Lot.objects.filter(pk=a.pk).update(supplier="changed elsewhere")
    locked = stock_lock(lots=[b, a, b])
    assert sorted(locked) == sorted([a.pk, b.pk])
    assert locked[a.pk].supplier == "changed elsewhere"
    assert locked[b.pk].on_hand == Decimal("20")


def test_empty_is_a_no_op(db):
    assert stock_lock(lots=[]) == {}


def test_a_lost_position_is_rebuilt_from_the_lots(make_lot, manager):
    first = make_lot("100")
    second = make_lot("50")
    lot_set_status(lot=second, status="quarantine", by=manager)
    Position.objects.all().delete()  # e.g. a bulk load that forgot them
    movement_receipt(lot=first, quantity=Decimal("5"), by=manager)
    position = Position.objects.get()
    assert (position.on_hand, position.unavailable, position.available) == (
        Decimal("155"),
        Decimal("50"),
        Decimal("105"),
    )
    movement_release(lot=first, quantity=Decimal("5"), by=manager)
    assert_holdings_consistent()
