"""The period close, sealed entries and control accounts held by PostgreSQL itself: raw SQL,
and real concurrent connections."""

import threading
import time
from datetime import date
from decimal import Decimal

import pytest
from django.db import DatabaseError, connection, transaction

from tests.factories import UserFactory
from vault.core.errors import Conflict
from vault.integrity.invariants import run_checks
from vault.ledger import services
from vault.ledger.models import Account, Books, JournalEntry, PeriodClose
from vault.ledger.services import Line

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
MARCH_END = date(2026, 3, 31)


@pytest.fixture
def fin():
    services.chart_ensure()  # a transactional test starts from flushed tables
    return UserFactory(username="finance-db", role="finance")


def _sql(statement, params=()):
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.fetchone() if cursor.description else None


def _account(code: str) -> int:
    return Account.objects.get(code=code).pk


def _raw_entry(day: date, source: str = "raw", debit: str = "5000", credit: str = "1000") -> int:
    """An entry and its two lines inserted with SQL in one transaction."""
    with transaction.atomic():
        (entry_id,) = _sql(
            "INSERT INTO ledger_journalentry (date, memo, source_type, posted_at) VALUES (%s, 'raw', %s, now()) "
            "RETURNING id",
            [day, source],
        )
        for account, dr, cr in ((debit, 7, 0), (credit, 0, 7)):
            _sql(
                "INSERT INTO ledger_journalline (entry_id, account_id, debit, credit) VALUES (%s, %s, %s, %s)",
                [entry_id, _account(account), dr, cr],
            )
    return entry_id


def _post(day: date) -> JournalEntry:
    return services.entry_post(
        date=day,
        memo="charge",
        lines=[Line("5000", debit=Decimal("5")), Line("1000", credit=Decimal("5"))],
        source_type="bank",
    )


def test_raw_sql_cannot_post_into_a_closed_period(fin):
    services.period_close(through=MARCH_END, by=fin)
    with pytest.raises(DatabaseError, match="period_closed"):
        _raw_entry(MARCH_END)
    assert _raw_entry(date(2026, 4, 1))
    assert JournalEntry.objects.count() == 1


def test_the_lock_date_moves_only_with_its_record_and_the_record_is_append_only(fin):
    services.period_close(through=MARCH_END, by=fin)
    for statement in (
        "UPDATE ledger_books SET closed_through = NULL",
        "UPDATE ledger_books SET closed_through = '2026-01-31'",
        "DELETE FROM ledger_books",
        "UPDATE ledger_periodclose SET through = '2026-01-31'",
        "DELETE FROM ledger_periodclose",
        "TRUNCATE ledger_periodclose",
    ):
        with pytest.raises(DatabaseError), transaction.atomic():
            _sql(statement)
    assert Books.objects.get().closed_through == MARCH_END
    assert PeriodClose.objects.count() == 1
    with pytest.raises(DatabaseError), transaction.atomic():  # a reopening names two different users
        _sql(
            "INSERT INTO ledger_periodclose (kind, through, requested_by_id, approved_by_id, reason, at) "
            "VALUES ('reopen', NULL, %s, %s, 'x', now())",
            [fin.pk, fin.pk],
        )


def test_a_committed_entry_is_sealed_against_added_lines(fin):
    entry = _post(date(2026, 3, 2))
    with pytest.raises(DatabaseError, match="sealed"), transaction.atomic():
        for account, dr, cr in (("5000", 100, 0), ("1000", 0, 100)):  # a balanced pair, as an intruder would
            _sql(
                "INSERT INTO ledger_journalline (entry_id, account_id, debit, credit) VALUES (%s, %s, %s, %s)",
                [entry.pk, _account(account), dr, cr],
            )
    assert entry.lines.count() == 2
    with pytest.raises(DatabaseError), transaction.atomic():  # the transaction stamp cannot be rewritten
        _sql("UPDATE ledger_journalentry SET txid = txid_current() WHERE id = %s", [entry.pk])


def test_raw_sql_cannot_post_a_manual_line_on_a_control_account_nor_unmark_one(fin):
    with pytest.raises(DatabaseError, match="control_account"):
        _raw_entry(date(2026, 3, 2), source="manual", debit="2000")
    assert _raw_entry(date(2026, 3, 2), source="manual")  # cash and expense: allowed
    with pytest.raises(DatabaseError), transaction.atomic():
        _sql("UPDATE ledger_account SET is_control = false WHERE code = '1300'")
    assert Account.objects.get(code="1300").is_control


def test_vault_check_names_what_went_round_the_triggers(fin):
    services.period_close(through=MARCH_END, by=fin)
    time.sleep(0.01)
    _sql("ALTER TABLE ledger_journalentry DISABLE TRIGGER ledger_journalentry_open_period")
    _sql("ALTER TABLE ledger_journalline DISABLE TRIGGER ledger_journalline_sealed")
    try:
        backdated = _raw_entry(date(2026, 3, 15), source="manual", debit="2000")
    finally:
        _sql("ALTER TABLE ledger_journalentry ENABLE TRIGGER ledger_journalentry_open_period")
        _sql("ALTER TABLE ledger_journalline ENABLE TRIGGER ledger_journalline_sealed")
    found = "\n".join(line for lines in run_checks().values() for line in lines)
    assert f"JE-{backdated:08d} dated 2026-03-15 was posted while the books were closed through 2026-03-31" in found
    assert f"JE-{backdated:08d}: a manual entry posted to control account 2000" in found


def test_a_posting_waiting_on_a_close_in_flight_is_refused_with_409(fin):
    """The close holds the books' row; a posting dated in the period it closes waits, then reads
    the new lock date and is refused by the service (409), not by a trigger's error."""
    closing, results = threading.Event(), {}

    def close():
        try:
            with transaction.atomic():
                services.period_close(through=MARCH_END, by=fin)
                closing.set()
                time.sleep(0.5)  # the close is written but not committed
        finally:
            connection.close()

    def post():
        try:
            closing.wait(10)
            started = time.monotonic()
            try:
                _post(date(2026, 3, 20))
                results["post"] = "posted"
            except Conflict as exc:
                results["post"] = exc.code
            results["waited"] = time.monotonic() - started
        finally:
            connection.close()

    threads = [threading.Thread(target=close), threading.Thread(target=post)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert results["post"] == "period_closed"
    assert results["waited"] >= 0.3
    assert not JournalEntry.objects.filter(date__lte=MARCH_END).exists()


def test_two_finance_users_reopen_on_postgres_and_the_check_constraint_holds(fin):
    other = UserFactory(username="finance-db-2", role="finance")
    services.period_close(through=MARCH_END, by=fin)
    request = services.period_reopen_request(through=None, reason="restatement", by=fin)
    with pytest.raises(Conflict):
        services.period_reopen_approve(request=request, by=fin)
    with pytest.raises(DatabaseError), transaction.atomic():
        _sql("UPDATE ledger_reopenrequest SET state = 'approved', decided_by_id = requested_by_id")
    services.period_reopen_approve(request=request, by=other)
    assert Books.objects.get().closed_through is None
    assert _post(date(2026, 3, 2)).pk
    assert not any(run_checks().values())
