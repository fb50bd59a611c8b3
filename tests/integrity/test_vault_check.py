"""vault_check fires on each kind of corruption (made with raw SQL, as a bug or a hand edit would)."""

from decimal import Decimal
from io import StringIO

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.db import connection

from tests.factories import days
from vault.drawdowns import services as drawdowns
from vault.integrity.invariants import run_checks
from vault.integrity.tasks import vault_check
from vault.inventory.services import movement_transfer


def _sql(statement: str, params=None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params or [])


def _bypass_triggers(table: str) -> None:
    """On PostgreSQL the triggers refuse the corruption; switch them off for this test's
    transaction only (the DDL is rolled back with it). Pending deferred checks run first."""
    if connection.vendor == "postgresql":
        _sql("SET CONSTRAINTS ALL IMMEDIATE")
        _sql(f"ALTER TABLE {table} DISABLE TRIGGER USER")


def _failing(results: dict[str, list[str]]) -> set[str]:
    return {name for name, lines in results.items() if lines}


@pytest.fixture
def stock(lot, other_site, manager, maker_a, agreement_a):
    """A lot 100 kg of which moved to another site, 50 kg reserved by an approved drawdown."""
    movement_transfer(lot=lot, quantity=Decimal("100"), to_site=other_site, by=manager)
    request = drawdowns.drawdown_create(
        by=maker_a,
        material=lot.material,
        quantity=Decimal("50"),
        submit=True,
        needed_by=days(10),
        replenish_by=days(60),
    )
    drawdowns.drawdown_approve(request=request, by=manager)
    lot.refresh_from_db()
    assert lot.reserved == Decimal("50")
    return lot


def test_clean_data_passes_every_check(stock):
    out = StringIO()
    call_command("vault_check", stdout=out)
    assert "All" in out.getvalue()
    assert _failing(run_checks()) == set()


def test_lot_quantity_edited_by_hand_is_named(stock):
    _sql("UPDATE inventory_lot SET on_hand = on_hand + 7 WHERE id = %s", [stock.pk])
    failing = _failing(run_checks())
    assert {
        "lot_equals_movements",
        "position_equals_lots",
        "last_movement_balance",
        "inventory_account_equals_stock_at_cost",
    } <= failing
    out = StringIO()
    with pytest.raises(CommandError, match="invariant checks failed"):
        call_command("vault_check", stdout=out)
    assert f"lot {stock.lot_number}: on hand 907" in out.getvalue()


def test_position_reserved_drift_is_named(stock):
    _sql(
        "UPDATE inventory_position SET reserved = reserved + 1 WHERE material_id = %s AND site_id = %s",
        [stock.material_id, stock.site_id],
    )
    assert _failing(run_checks()) == {"position_equals_lots"}


def test_unbalanced_journal_entry_is_named(stock):
    _bypass_triggers("ledger_journalline")
    _sql(
        "UPDATE ledger_journalline SET debit = debit + 1 WHERE id = (SELECT MIN(id) FROM ledger_journalline "
        "WHERE debit > 0)"
    )
    failing = _failing(run_checks())
    assert "entry_balanced" in failing


def test_movement_deleted_by_hand_is_named(stock):
    _bypass_triggers("inventory_movement")
    _sql(
        "DELETE FROM inventory_movement WHERE id = (SELECT MAX(id) FROM inventory_movement WHERE lot_id = %s "
        "AND counterpart_id IS NULL AND reverses_id IS NULL)",
        [stock.pk],
    )
    assert "lot_equals_movements" in _failing(run_checks())


@pytest.mark.postgres
def test_negative_balance_is_named_even_without_the_constraint(stock):
    # The CHECK constraints make this impossible; drop them inside the test transaction to see
    # that the check would still catch it (e.g. on a restored backup with constraints off).
    _sql("SET CONSTRAINTS ALL IMMEDIATE")
    _sql("ALTER TABLE inventory_lot DROP CONSTRAINT lot_on_hand_not_negative")
    _sql("ALTER TABLE inventory_lot DROP CONSTRAINT lot_reserved_within_on_hand")
    _sql("UPDATE inventory_lot SET on_hand = -5 WHERE id = %s", [stock.pk])
    assert "no_negative_balance" in _failing(run_checks())


def test_periodic_task_mails_managers_only_on_violation(stock, manager):
    manager.email = "boss@vault.example"
    manager.save(update_fields=["email"])
    assert vault_check() == 0
    assert mail.outbox == []
    _sql("UPDATE inventory_lot SET on_hand = on_hand + 1 WHERE id = %s", [stock.pk])
    assert vault_check() >= 1
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["boss@vault.example"]
    assert "lot_equals_movements" in mail.outbox[0].body
