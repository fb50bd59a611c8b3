"""What the database itself refuses, whatever the application code does (raw SQL)."""

import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction

from vault.inventory.models import Lot, Movement, Position


def _sql(statement, params=()):
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement, params)


@pytest.mark.postgres
@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE inventory_movement SET quantity = quantity + 1 WHERE id = %s",
        "UPDATE inventory_movement SET reason = 'edited' WHERE id = %s",
        "DELETE FROM inventory_movement WHERE id = %s",
    ],
)
def test_movements_are_append_only(lot, statement):
    movement = lot.movements.get()
    with pytest.raises(DatabaseError, match="append-only"):
        _sql(statement, [movement.pk])
    movement.refresh_from_db()
    assert movement.reason == "Initial receipt"


@pytest.mark.postgres
def test_movements_cannot_be_truncated_row_by_row_through_the_orm(lot):
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        Movement.objects.filter(lot=lot).update(reason="edited")
    assert Movement.objects.filter(reason="edited").count() == 0


@pytest.mark.parametrize(
    ("statement", "constraint"),
    [
        ("UPDATE inventory_lot SET on_hand = -1 WHERE id = %s", "lot_on_hand_not_negative"),
        ("UPDATE inventory_lot SET reserved = on_hand + 1 WHERE id = %s", "lot_reserved_within_on_hand"),
        ("UPDATE inventory_lot SET reserved = -1 WHERE id = %s", "lot_reserved_within_on_hand"),
        ("UPDATE inventory_lot SET unit_cost = -1 WHERE id = %s", "lot_unit_cost_not_negative"),
    ],
)
def test_lot_balances_are_checked(lot, statement, constraint):
    with pytest.raises(IntegrityError, match=constraint if connection.vendor == "postgresql" else None):
        _sql(statement, [lot.pk])
    lot.refresh_from_db()
    assert lot.on_hand == 1000


@pytest.mark.parametrize(
    "assignment",
    ["on_hand = -1", "reserved = on_hand + 1", "unavailable = on_hand + 1", "reserved = -1"],
)
def test_position_balances_are_checked(lot, assignment):
    position = Position.objects.get(material=lot.material, site=lot.site)
    with pytest.raises(IntegrityError):
        _sql(f"UPDATE inventory_position SET {assignment} WHERE id = %s", [position.pk])


def test_zero_movement_and_negative_balance_after_are_refused(lot, manager):
    base = {
        "kind": "adjustment",
        "lot": lot,
        "material": lot.material,
        "site": lot.site,
        "balance_after": 1,
        "quantity": 1,
        "created_by": manager,
    }
    with pytest.raises(IntegrityError), transaction.atomic():
        Movement.objects.create(**{**base, "quantity": 0})
    with pytest.raises(IntegrityError), transaction.atomic():
        Movement.objects.create(**{**base, "balance_after": -1})


def test_lot_on_hand_cannot_be_set_through_the_orm_below_zero(lot):
    with pytest.raises(IntegrityError), transaction.atomic():
        Lot.objects.filter(pk=lot.pk).update(on_hand=-5)
