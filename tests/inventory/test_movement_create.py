from decimal import Decimal

import pytest

from tests.inventory.invariants import assert_holdings_consistent
from vault.core.errors import InvalidInput
from vault.inventory.services import CREATABLE_KINDS, movement_create


def test_creatable_kinds_exclude_reversal():
    assert sorted(CREATABLE_KINDS) == ["adjustment", "receipt", "release", "transfer", "write_off"]


@pytest.mark.parametrize(
    ("kind", "quantity", "expected"),
    [
        ("receipt", "10", "10"),
        ("adjustment", "-10", "-10"),
        ("write_off", "10", "-10"),
        ("release", "10", "-10"),
    ],
)
def test_dispatches_on_kind(lot, manager, kind, quantity, expected):
    movement = movement_create(kind=kind, lot=lot, quantity=Decimal(quantity), by=manager, reason="r")
    assert (movement.kind, movement.quantity) == (kind, Decimal(expected))
    assert_holdings_consistent()


def test_transfer_needs_a_destination(lot, manager, other_site, unchanged):
    with unchanged(), pytest.raises(InvalidInput) as exc:
        movement_create(kind="transfer", lot=lot, quantity=Decimal("1"), by=manager)
    assert exc.value.field == "to_site"
    movement = movement_create(kind="transfer", lot=lot, quantity=Decimal("1"), by=manager, to_site=other_site)
    assert movement.counterpart.site == other_site


def test_only_transfers_take_a_destination(lot, manager, other_site, unchanged):
    with unchanged(), pytest.raises(InvalidInput) as exc:
        movement_create(kind="receipt", lot=lot, quantity=Decimal("1"), by=manager, to_site=other_site)
    assert exc.value.field == "to_site"


@pytest.mark.parametrize("kind", ["reversal", "theft", ""])
def test_unknown_kind(lot, manager, kind, unchanged):
    with unchanged(), pytest.raises(InvalidInput) as exc:
        movement_create(kind=kind, lot=lot, quantity=Decimal("1"), by=manager)
    assert exc.value.field == "kind"


def test_none_reason_is_treated_as_blank(lot, manager):
    movement = movement_create(kind="receipt", lot=lot, quantity=Decimal("1"), by=manager, reason=None)
    assert movement.reason == ""
