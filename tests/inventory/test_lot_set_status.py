from decimal import Decimal

import pytest

from tests.inventory.invariants import assert_holdings_consistent
from vault.core.errors import Conflict, InvalidInput
from vault.inventory.models import Lot, Position
from vault.inventory.services import lot_reserve, lot_set_status


def _position(lot):
    p = Position.objects.get(material=lot.material, site=lot.site)
    return p.on_hand, p.unavailable, p.available


def test_quarantine_moves_stock_out_of_available_and_back(lot, manager):
    lot = lot_set_status(lot=lot, status=Lot.Status.QUARANTINE, by=manager, reason="assay pending")
    assert lot.status == Lot.Status.QUARANTINE
    assert _position(lot) == (Decimal("1000"), Decimal("1000"), 0)
    assert_holdings_consistent()
    lot = lot_set_status(lot=lot, status=Lot.Status.DAMAGED, by=manager)
    assert _position(lot) == (Decimal("1000"), Decimal("1000"), 0)
    lot = lot_set_status(lot=lot, status=Lot.Status.AVAILABLE, by=manager)
    assert _position(lot) == (Decimal("1000"), 0, Decimal("1000"))
    assert_holdings_consistent()


def test_change_is_audited_with_reason(lot, manager):
    lot_set_status(lot=lot, status=Lot.Status.DAMAGED, by=manager, reason="forklift")
    latest = lot.history.first()
    assert (latest.status, latest.history_user, latest.history_change_reason) == ("damaged", manager, "forklift")


def test_same_status_is_a_no_op(lot, manager):
    before = lot.history.count()
    lot_set_status(lot=lot, status=Lot.Status.AVAILABLE, by=manager)
    assert lot.history.count() == before
    assert _position(lot) == (Decimal("1000"), 0, Decimal("1000"))


def test_unknown_status(lot, manager, unchanged):
    with unchanged(), pytest.raises(InvalidInput) as exc:
        lot_set_status(lot=lot, status="lost", by=manager)
    assert exc.value.field == "status"


def test_reserved_lot_cannot_leave_available(lot, manager, unchanged):
    lot_reserve(lot=lot, quantity=Decimal("1"))
    with unchanged(), pytest.raises(Conflict) as exc:
        lot_set_status(lot=lot, status=Lot.Status.QUARANTINE, by=manager)
    assert exc.value.field == "status"


def test_stale_instance_does_not_matter(lot, manager):
    stale = Lot.objects.get(pk=lot.pk)
    lot_set_status(lot=lot, status=Lot.Status.QUARANTINE, by=manager)
    lot_set_status(lot=stale, status=Lot.Status.QUARANTINE, by=manager)  # already there: no double shift
    assert _position(lot) == (Decimal("1000"), Decimal("1000"), 0)
    assert_holdings_consistent()
