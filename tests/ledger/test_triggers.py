"""The journal's invariants held by PostgreSQL itself: raw SQL cannot commit an unbalanced
entry, nor change or delete a posted one; a reversal points at its original, once."""

from datetime import date
from decimal import Decimal

import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction

from vault.ledger.models import Account, JournalEntry, JournalLine
from vault.ledger.services import Line, chart_ensure, entry_post, entry_reverse

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def accounts():
    chart_ensure()
    return {a.code: a.pk for a in Account.objects.filter(code__in=["1000", "4000"])}


def _sql(statement, params=()):
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.fetchone() if cursor.description else None


def _raw_entry(accounts, debit: str, credit: str | None) -> None:
    (entry_id,) = _sql(
        "INSERT INTO ledger_journalentry (date, memo, source_type, posted_at) VALUES (%s, 'raw', 'raw', now()) "
        "RETURNING id",
        [date(2026, 3, 2)],
    )
    _sql(
        "INSERT INTO ledger_journalline (entry_id, account_id, debit, credit) VALUES (%s, %s, %s, 0)",
        [entry_id, accounts["1000"], Decimal(debit)],
    )
    if credit is not None:
        _sql(
            "INSERT INTO ledger_journalline (entry_id, account_id, debit, credit) VALUES (%s, %s, 0, %s)",
            [entry_id, accounts["4000"], Decimal(credit)],
        )


def test_raw_unbalanced_entry_fails_at_commit(accounts):
    with pytest.raises(IntegrityError, match="unbalanced"), transaction.atomic():
        _raw_entry(accounts, "10.00", "9.99")
        # Inside the transaction it was accepted: the check is deferred to COMMIT.
        assert JournalLine.objects.count() == 2
    assert JournalEntry.objects.count() == 0


def test_raw_single_line_entry_fails_at_commit(accounts):
    with pytest.raises(IntegrityError, match="unbalanced"), transaction.atomic():
        _raw_entry(accounts, "10.00", None)
    assert JournalEntry.objects.count() == 0


def test_raw_balanced_entry_commits(accounts):
    with transaction.atomic():
        _raw_entry(accounts, "10.00", "10.00")
    assert JournalLine.objects.count() == 2


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE ledger_journalline SET debit = debit + 1 WHERE debit > 0",
        "UPDATE ledger_journalentry SET memo = 'edited'",
        "DELETE FROM ledger_journalline",
        "DELETE FROM ledger_journalentry",
    ],
)
def test_posted_entries_and_lines_cannot_be_updated_or_deleted(accounts, statement):
    entry = entry_post(
        date=date(2026, 3, 2),
        memo="posted",
        lines=[Line("1000", debit=Decimal("10.00")), Line("4000", credit=Decimal("10.00"))],
        source_type="manual",
    )
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        _sql(statement)
    entry.refresh_from_db()
    assert entry.memo == "posted"
    assert sorted(entry.lines.values_list("debit", flat=True)) == [Decimal("0.00"), Decimal("10.00")]


def test_an_entry_is_reversed_once_and_a_reversal_never(accounts):
    entry = entry_post(
        date=date(2026, 3, 2),
        memo="posted",
        lines=[Line("1000", debit=Decimal("10.00")), Line("4000", credit=Decimal("10.00"))],
        source_type="manual",
    )
    reversal = entry_reverse(entry=entry, date=date(2026, 3, 3))
    assert reversal.reverses_id == entry.pk

    insert = (
        "INSERT INTO ledger_journalentry (date, memo, source_type, posted_at, reverses_id) "
        "VALUES ('2026-03-04', 'raw reversal', 'raw', now(), %s)"
    )
    with pytest.raises(IntegrityError), transaction.atomic():  # unique: once only
        _sql(insert, [entry.pk])
    with pytest.raises(IntegrityError, match="is a reversal"), transaction.atomic():
        _sql(insert, [reversal.pk])
    assert JournalEntry.objects.count() == 2
