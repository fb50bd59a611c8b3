"""The append-only tables refuse TRUNCATE, even from their owner (tests run as a superuser here),
and vault_check names a guard switched off (PostgreSQL; SQLite has neither TRUNCATE nor a way to
switch a trigger off)."""

import psycopg
import pytest
from django.db import connection, transaction
from django.db.utils import NotSupportedError, OperationalError

from tests.integrity.test_vault_check import stock  # noqa: F401 - a fixture
from vault.core import dbroles
from vault.integrity.invariants import run_checks

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

# The tables the migrations make append-only (tests/hardening/test_db_role.py holds the same list
# against the installation made by deploy/db_roles.sql).
APPEND_ONLY = [
    "accounts_secondfactorevent",
    "drawdowns_drawdowntransition",
    "financing_feereceipt",
    "financing_interestaccrual",
    "financing_interestpayment",
    "financing_repayment",
    "integrity_seal",
    "inventory_movement",
    "ledger_downloadrecord",
    "ledger_journalentry",
    "ledger_journalline",
    "ledger_periodclose",
]


def _count(table: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {table}")  # noqa: S608 - a table name of the list above
        return cursor.fetchone()[0]


def _immediate() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def _refused(statement: str) -> str:
    """Run `statement` in a savepoint; return the database's refusal (the test fails without one).
    The deferred checks of the fixtures' writes run first: TRUNCATE waits for no pending trigger."""
    _immediate()
    with (
        pytest.raises((OperationalError, NotSupportedError)) as refused,
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(statement)
    assert isinstance(refused.value.__cause__, psycopg.errors.ObjectNotInPrerequisiteState)
    return str(refused.value)


def test_every_append_only_table_has_a_truncate_guard():
    with connection.cursor() as cursor:
        assert dbroles.append_only_tables(cursor) == APPEND_ONLY
    assert run_checks(["guard_triggers_enabled"]) == {"guard_triggers_enabled": []}


@pytest.mark.parametrize("table", APPEND_ONLY)
def test_truncate_of_an_append_only_table_is_refused_and_nothing_goes(stock, table):  # noqa: F811
    before = _count(table)
    assert f"{table} is append-only: TRUNCATE is refused" in _refused(f"TRUNCATE {table} CASCADE")
    assert _count(table) == before


def test_a_cascade_from_a_table_that_may_be_emptied_is_refused_too(stock):  # noqa: F811
    """TRUNCATE inventory_lot CASCADE would take the movements with it."""
    movements = _count("inventory_movement")
    assert "inventory_movement is append-only" in _refused("TRUNCATE inventory_lot CASCADE")
    assert _count("inventory_movement") == movements


def test_the_owner_may_empty_them_on_purpose_for_one_transaction(stock):  # noqa: F811
    """What the test suite's flush does (tests/conftest.py): SET LOCAL, then TRUNCATE, here rolled back."""
    _immediate()
    with transaction.atomic():
        sid = transaction.savepoint()
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL vault.truncate_append_only = 'on'")
            cursor.execute("TRUNCATE inventory_movement CASCADE")
        assert _count("inventory_movement") == 0
        transaction.savepoint_rollback(sid)
    assert _count("inventory_movement") > 0


def test_vault_check_names_a_guard_switched_off(stock):  # noqa: F811
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("ALTER TABLE ledger_journalline DISABLE TRIGGER ledger_journalline_no_truncate")
        cursor.execute("DROP TRIGGER inventory_movement_no_truncate ON inventory_movement")
    assert sorted(run_checks(["guard_triggers_enabled"])["guard_triggers_enabled"]) == [
        "table inventory_movement is append-only but TRUNCATE is not refused",
        "table ledger_journalline: trigger ledger_journalline_no_truncate is disabled",
    ]
