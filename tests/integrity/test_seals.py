"""The hash chain over journal entries and stock movements: sealed ranges, and vault_check
naming a row edited, deleted or inserted behind the application's back, triggers off or not."""

from datetime import date, time, timedelta
from decimal import Decimal

import pytest
from django.db import DatabaseError, transaction
from django.utils import timezone

from tests.clock import travel_to
from tests.integrity.test_vault_check import _bypass_triggers, _failing, _sql
from vault.integrity.chain import seal_breaks, seal_streams
from vault.integrity.invariants import run_checks
from vault.integrity.models import Seal
from vault.integrity.tasks import seal
from vault.inventory.services import movement_adjust
from vault.ledger.models import JournalEntry, JournalLine
from vault.ledger.services import Line, entry_post

pytestmark = pytest.mark.django_db
NOW = timedelta(0)


@pytest.fixture
def posted(lot, manager):
    """A lot received (a movement and its entry), adjusted, and a bank charge posted."""
    movement_adjust(lot=lot, quantity=Decimal("-1"), reason="count", by=manager)
    entry_post(
        date=date(2026, 3, 2),
        memo="bank charge",
        lines=[Line("5000", debit=Decimal("3.00")), Line("1000", credit=Decimal("3.00"))],
        source_type="bank",
    )
    return lot


def test_each_stream_is_sealed_once_and_the_chain_checks_out(posted):
    links = seal_streams(horizon=NOW)
    assert {link.stream for link in links} == {"journal", "movements"}
    journal = Seal.objects.get(stream="journal")
    assert (journal.first_id, journal.last_id, journal.rows) == (  # the chain starts at id 1
        1,
        JournalEntry.objects.order_by("id").last().pk,
        JournalEntry.objects.count(),
    )
    assert seal_streams(horizon=NOW) == []
    assert seal_breaks() == []
    entry_post(
        date=date(2026, 3, 3),
        memo="another charge",
        lines=[Line("5000", debit=Decimal("1.00")), Line("1000", credit=Decimal("1.00"))],
        source_type="bank",
    )
    (second,) = seal_streams(horizon=NOW)
    assert (second.stream, second.first_id, second.rows, second.previous_digest) == (
        "journal",
        journal.last_id + 1,
        1,
        journal.digest,
    )
    assert _failing(run_checks(["seals_match_rows"])) == set()


def test_rows_inside_the_horizon_wait_for_a_later_seal(posted):
    assert seal() == 0  # just posted: transactions may still be in flight
    with travel_to(timezone.localdate(), time(10, 30)):
        assert seal() == 2  # the beat task, ten minutes and more later
    assert Seal.objects.count() == 2


def _corrupt(table: str, statement: str, params=()) -> None:
    """Raw SQL as an owner with the table's triggers off would run it (SQLite has none to stop it)."""
    _bypass_triggers(table)
    _sql(statement, list(params))


def test_a_journal_line_edited_behind_the_application_breaks_its_seal(posted):
    seal_streams(horizon=NOW)
    line = JournalLine.objects.filter(entry__source_type="bank").order_by("id")
    debit, credit = line[0], line[1]
    _corrupt("ledger_journalline", "UPDATE ledger_journalline SET debit = debit + 100 WHERE id = %s", [debit.pk])
    _sql("UPDATE ledger_journalline SET credit = credit + 100 WHERE id = %s", [credit.pk])  # still balanced
    results = run_checks()
    assert "entry_balanced" not in _failing(results)
    [found] = results["seals_match_rows"]
    assert found.startswith("seal of journal rows ") and "no longer matches its rows" in found


def test_a_movement_edited_or_a_line_slipped_into_an_old_entry_is_named(posted):
    seal_streams(horizon=NOW)
    movement = posted.movements.order_by("id").last()
    _corrupt(
        "inventory_movement", "UPDATE inventory_movement SET reason = 'nothing to see' WHERE id = %s", [movement.pk]
    )
    entry = JournalEntry.objects.get(source_type="bank")
    _corrupt(
        "ledger_journalline",
        "INSERT INTO ledger_journalline (entry_id, account_id, debit, credit) "
        "SELECT %s, account_id, credit, debit FROM ledger_journalline WHERE entry_id = %s",
        [entry.pk, entry.pk],
    )
    found = "\n".join(run_checks(["seals_match_rows"])["seals_match_rows"])
    assert "seal of movements rows" in found and "seal of journal rows" in found


@pytest.mark.postgres
def test_seals_are_append_only_on_postgres(posted, _require_postgres):
    seal_streams(horizon=NOW)
    for statement in (
        "UPDATE integrity_seal SET digest = 'x'",
        "DELETE FROM integrity_seal",
        "TRUNCATE integrity_seal",
    ):
        with pytest.raises(DatabaseError), transaction.atomic():
            _sql(statement)
    assert Seal.objects.count() == 2
