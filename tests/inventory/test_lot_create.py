from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from tests.inventory.invariants import assert_holdings_consistent, postings
from vault.core.errors import InvalidInput
from vault.inventory.models import Lot, Movement, Position
from vault.inventory.services import lot_create
from vault.ledger import chart


def _create(manager, material, site, **kwargs):
    data = {
        "by": manager,
        "lot_number": "L-1",
        "material": material,
        "site": site,
        "mining_country": "US",
        "processing_country": "US",
        "received_date": date(2026, 1, 15),
        "unit_cost": Decimal("72.50"),
        **kwargs,
    }
    return lot_create(**data)


def test_initial_quantity_is_one_receipt_posted_against_cash(manager, material, site):
    lot = _create(manager, material, site, initial_quantity=Decimal("200"), supplier="MP Materials")
    assert lot.on_hand == Decimal("200") and lot.reserved == 0
    (receipt,) = Movement.objects.filter(lot=lot)
    assert (receipt.kind, receipt.quantity, receipt.balance_after, receipt.value) == (
        "receipt",
        Decimal("200"),
        Decimal("200"),
        Decimal("14500.00"),
    )
    assert receipt.created_by == manager
    assert postings(receipt) == {chart.INVENTORY: Decimal("14500.00"), chart.CASH: Decimal("-14500.00")}
    position = Position.objects.get(material=material, site=site)
    assert (position.on_hand, position.available) == (Decimal("200"), Decimal("200"))
    assert_holdings_consistent()


def test_without_quantity_creates_an_empty_lot_and_its_position(manager, material, site):
    lot = _create(manager, material, site)
    assert lot.on_hand == 0
    assert not Movement.objects.exists()
    assert Position.objects.filter(material=material, site=site, on_hand=0).exists()


def test_replenishment_posts_against_the_chosen_account(manager, material, site):
    lot = _create(manager, material, site, initial_quantity=Decimal("10"), contra_account=chart.RECEIVABLES)
    assert postings(lot.movements.get()) == {chart.INVENTORY: Decimal("725.00"), chart.RECEIVABLES: Decimal("-725.00")}


def test_quarantined_lot_counts_as_unavailable(manager, material, site):
    _create(manager, material, site, status=Lot.Status.QUARANTINE, initial_quantity=Decimal("40"))
    position = Position.objects.get(material=material, site=site)
    assert (position.on_hand, position.unavailable, position.available) == (Decimal("40"), Decimal("40"), 0)
    assert_holdings_consistent()


def test_history_records_who_created_the_lot(manager, material, site):
    lot = _create(manager, material, site)
    record = lot.history.get()
    assert (record.history_type, record.history_user) == ("+", manager)


def test_duplicate_lot_number_is_refused(manager, material, site, unchanged):
    _create(manager, material, site, initial_quantity=Decimal("1"))
    with unchanged(), pytest.raises(InvalidInput) as exc:
        _create(manager, material, site, initial_quantity=Decimal("1"))
    assert exc.value.field == "lot_number"


@pytest.mark.parametrize(
    ("quantity", "field"),
    [(Decimal("0"), "initial_quantity"), (Decimal("-5"), "initial_quantity"), (Decimal("1.0001"), "initial_quantity")],
)
def test_bad_initial_quantity_leaves_no_lot(manager, material, site, quantity, field, unchanged):
    with unchanged(), pytest.raises(InvalidInput) as exc:
        _create(manager, material, site, initial_quantity=quantity)
    assert exc.value.field == field
    assert not Lot.objects.exists()


def test_initial_quantity_beyond_capacity_leaves_no_lot(manager, material, capped_site, unchanged):
    with unchanged(), pytest.raises(InvalidInput) as exc:
        _create(manager, material, capped_site, initial_quantity=Decimal("1500.001"))
    assert exc.value.field == "initial_quantity"
    assert "capacity" in exc.value.message


@pytest.mark.parametrize("field", ["mining_country", "processing_country"])
def test_country_codes_are_validated(manager, material, site, field):
    with pytest.raises(ValidationError) as exc:
        _create(manager, material, site, **{field: "usa"})
    assert field in exc.value.message_dict
    assert not Lot.objects.exists()


def test_negative_unit_cost_is_refused(manager, material, site):
    with pytest.raises(ValidationError) as exc:
        _create(manager, material, site, unit_cost=Decimal("-1"))
    assert "unit_cost" in exc.value.message_dict
