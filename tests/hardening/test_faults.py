"""Faults against real processes on PostgreSQL and Redis (helpers in tests/hardening/processes.py).

1. Redis dies while manufacturers submit drawdown requests through gunicorn: every request is
   stored and its notifications wait in the outbox; once Redis is back, `outbox_drain` on a real
   Celery worker delivers each exactly once, and neither a second drain nor a duplicate delivery
   sends anything twice.
2. The worker's pool child is SIGKILLed inside the coverage check's transaction, and inside an
   interest accrual's (each held there by a PostgreSQL lock this test owns): with acks_late and
   reject_on_worker_lost the message is requeued, the rerun completes, and the database holds one
   run with one snapshot set and one open alert, one accrual per facility and day, a balanced
   ledger, and `vault_check` passes.

Each test starts its own redis-server on a free port (never the shared one), a prefork worker with
one pool child and, for 1, gunicorn; all on the pytest test database, not eager, e-mail written
to files. Logs are in tmp_path and printed when a test fails. The tests keep the real clock
(`real_clock`): a subprocess cannot travel to the test day."""

from __future__ import annotations

import email
import functools
import io
import json
import os
import shutil
import signal
import urllib.error
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import Count, F, Q, Sum
from django.utils import timezone

from tests.factories import LotFactory, MaterialFactory, api_token
from tests.financing.factories import disbursed_tranche, make_facility
from tests.hardening.processes import Processes, Redis, children, database_url, free_port, wait_for
from vault.core.models import OutboxMessage
from vault.coverage import services as coverage
from vault.coverage.models import Alert, CoverageRun, CoverageSnapshot
from vault.drawdowns import services as drawdowns
from vault.drawdowns.models import DrawdownRequest
from vault.financing.models import InterestAccrual
from vault.ledger.models import JournalEntry, JournalLine

# The subprocesses keep the real clock, so these tests do too (no travel to the test day): their
# dates are relative to the real today or fixed in the past, and no figure depends on which day.
pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True), pytest.mark.real_clock]

D = Decimal
DRAIN = "vault.core.outbox.outbox_drain"
NOTIFY_STATUS = "vault.drawdowns.tasks.notify_status_changed"
NOTIFY_MANAGERS = "vault.drawdowns.tasks.notify_managers_submitted"
RECHECK = "vault.coverage.tasks.coverage_recheck"
ALERTS_NOTIFY = "vault.coverage.tasks.alerts_notify"
MAIL_SEPARATOR = b"\n" + b"-" * 79 + b"\n"


# --- fixtures and helpers ------------------------------------------------------------------------


@pytest.fixture
def chart_of_accounts(transactional_db):
    """The ledger's system accounts (TRUNCATE in transactional tests wipes the data migration's)."""
    from vault.ledger.chart import SYSTEM_ACCOUNTS
    from vault.ledger.models import Account

    for code, name, kind in SYSTEM_ACCOUNTS:
        Account.objects.get_or_create(code=code, defaults={"name": name, "type": kind})


def _other_backends() -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return [pid for (pid,) in cursor.fetchall()]


@pytest.fixture
def procs(_require_postgres, transactional_db, tmp_path):
    """Starts this test's processes; stops them all, then waits for their database sessions to
    end (a SIGKILLed client's backend lingers until it next talks to it), so that the test
    database can be flushed."""
    processes = Processes(tmp_path=tmp_path, database_url=database_url(connection.settings_dict))
    try:
        yield processes
    finally:
        processes.stop_all()
        try:
            wait_for(lambda: not _other_backends(), timeout=15, what="the subprocesses' sessions to end")
        except AssertionError:
            with connection.cursor() as cursor:  # only sessions on this test database
                cursor.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )


class Broker:
    """A private redis-server and a Celery client sending to it. Results are read with plain
    GETs of the keys the worker's Redis result backend writes (db 1): the client has no result
    backend, so no pub/sub subscription outlives the server."""

    def __init__(self, redis: Redis, client):
        self.redis, self.client = redis, client

    def send(self, task: str, **kwargs) -> str:
        return self.client.send_task(task, kwargs=kwargs).id

    def result(self, task_id: str, *, timeout: float):
        import redis

        def stored():
            try:
                raw = redis.Redis(port=self.redis.port, db=1, socket_timeout=2).get(f"celery-task-meta-{task_id}")
            except redis.exceptions.ConnectionError:
                return None
            return raw and json.loads(raw)

        meta = wait_for(stored, timeout=timeout, what=f"the result of task {task_id}", interval=0.2)
        assert meta["status"] == "SUCCESS", meta
        return meta["result"]

    def call(self, task: str, *, timeout: float, **kwargs):
        return self.result(self.send(task, **kwargs), timeout=timeout)


@pytest.fixture
def broker(procs, monkeypatch):
    from celery import Celery

    if shutil.which("redis-server") is None:
        message = "needs redis-server on PATH (it runs a private one)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    redis = procs.redis()
    # Celery lets CELERY_BROKER_URL in the environment win over its configuration.
    monkeypatch.delenv("CELERY_BROKER_URL", raising=False)
    client = Celery("vault-faults", broker=redis.url(0), set_as_current=False)
    client.conf.update(
        broker_connection_timeout=2,
        broker_transport_options={"socket_connect_timeout": 2, "socket_timeout": 5},
        task_ignore_result=True,
    )
    try:
        yield Broker(redis, client)
    finally:
        client.close()


def logs_on_failure(test):
    """Print the tails of the test's subprocess logs (from the `procs` fixture) if it fails."""

    @functools.wraps(test)
    def run(*args, **kwargs):
        try:
            return test(*args, **kwargs)
        except BaseException:
            print(kwargs["procs"].logs())  # noqa: T201 - shown with the failure
            raise

    return run


def _connect(**options) -> psycopg.Connection:
    """A connection of our own to the test database, to hold locks the worker will wait for."""
    db = connection.settings_dict
    conn = psycopg.connect(
        host=db["HOST"] or "127.0.0.1",
        port=db["PORT"] or 5432,
        dbname=db["NAME"],
        user=db["USER"],
        password=db["PASSWORD"] or None,
        connect_timeout=5,
        **options,
    )
    conn.execute("SET lock_timeout = '10s'")
    return conn


def _blocked_by(holder: psycopg.Connection, *, timeout: float = 60) -> dict:
    """Wait until a backend of the test database is waiting for a lock `holder` holds; return
    its pid, its transaction id (set once it has written) and the lock waited for."""
    holder_pid = holder.info.backend_pid

    def waiting():
        with connection.cursor() as cursor:
            cursor.execute(
                """
                SELECT a.pid, a.backend_xid::text, l.locktype, l.mode, l.relation::regclass::text
                  FROM pg_stat_activity a
                  JOIN pg_locks l ON l.pid = a.pid AND NOT l.granted
                 WHERE a.datname = current_database() AND a.wait_event_type = 'Lock'
                   AND %s = ANY(pg_blocking_pids(a.pid))
                """,
                [holder_pid],
            )
            row = cursor.fetchone()
        return row and dict(zip(("pid", "xid", "locktype", "mode", "relation"), row, strict=True))

    return wait_for(waiting, timeout=timeout, what=f"a backend waiting for a lock held by {holder_pid}", interval=0.2)


def _kill_pool_child(worker) -> int:
    """SIGKILL the worker's only pool child (the one running the task); wait for its successor."""
    [child] = children(worker.pid)
    os.kill(child, signal.SIGKILL)
    wait_for(
        lambda: (found := children(worker.pid)) and child not in found,
        timeout=30,
        what="the worker to replace its killed pool child",
    )
    return child


def _backend_gone(pid: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", [pid])
        return cursor.fetchone()[0] == 0


def _mails(mail_dir: Path) -> list[email.message.Message]:
    """Every message the subprocesses' file e-mail backend wrote."""
    messages = []
    for path in sorted(mail_dir.glob("*.log")):
        for chunk in path.read_bytes().split(MAIL_SEPARATOR):
            if chunk.strip():
                messages.append(email.message_from_bytes(chunk))
    return messages


def _assert_vault_check_passes() -> None:
    out = io.StringIO()
    try:
        call_command("vault_check", stdout=out)
    except CommandError as exc:
        pytest.fail(f"vault_check: {exc}\n{out.getvalue()}")


def _assert_ledger_balanced() -> None:
    totals = JournalLine.objects.values("entry_id").annotate(
        debit=Sum("debit"), credit=Sum("credit"), lines=Count("id")
    )
    assert not list(totals.filter(Q(lines__lt=2) | ~Q(debit=F("credit"))))
    assert not JournalEntry.objects.filter(lines__isnull=True).exists()


# --- 1. Redis stops while manufacturers submit -----------------------------------------------------


class Web:
    def __init__(self, port: int):
        self.base = f"http://127.0.0.1:{port}"

    def call(self, method: str, path: str, *, token: str | None = None, body: dict | None = None):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(f"{self.base}{path}", data=data, method=method)  # noqa: S310
        request.add_header("Content-Type", "application/json")
        if token:
            request.add_header("Authorization", f"Token {token}")
        try:
            with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 - loopback
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode(errors="replace")

    def up(self) -> bool:
        try:
            return self.call("GET", "/healthz")[0] == 200
        except OSError:
            return False

    def submit(self, *, token: str, material, quantity: str):
        """A drawdown request, submitted at once: needed in 10 days, replenished within 60."""
        today = timezone.localdate()
        body = {
            "material": material.code,
            "quantity": quantity,
            "needed_by": str(today + timedelta(days=10)),
            "replenish_by": str(today + timedelta(days=60)),
            "justification": "Line ramp-up",
            "submit": True,
        }
        return self.call("POST", "/api/v1/drawdown-requests/", token=token, body=body)


def entitle(*, manager, maker, material, quantity: str = "5000") -> None:
    """An agreement of `quantity` kg for the maker's organization at 80 USD/kg, 90-day replenishment."""
    drawdowns.agreement_create(
        by=manager,
        organization=maker.organization,
        material=material,
        quantity=D(quantity),
        locked_price=D("80"),
        replenishment_days=90,
    )


@logs_on_failure
def test_requests_submitted_while_redis_is_down_are_notified_exactly_once_after_the_drain(
    procs, broker, chart_of_accounts, manager, maker_a, maker_b, material, site
):
    LotFactory(material=material, site=site, initial_quantity="20000", by=manager)
    for maker, quantity in ((maker_a, "5000"), (maker_b, "2000")):
        entitle(manager=manager, maker=maker, material=material, quantity=quantity)
    tokens = {user.username: api_token(user) for user in (maker_a, maker_b, manager)}

    port = free_port()
    web = Web(port)
    procs.gunicorn(broker_url=broker.redis.url(0), port=port)
    worker = procs.worker(broker_url=broker.redis.url(0), result_backend=broker.redis.url(1))
    wait_for(web.up, timeout=60, what="gunicorn to answer /healthz", interval=0.2)
    worker.wait_log(" ready.", timeout=60)

    def submit(user, quantity: str):
        return web.submit(token=tokens[user.username], material=material, quantity=quantity)

    def outbox_after(mark: int):
        return OutboxMessage.objects.filter(pk__gt=mark).order_by("id")

    # Broker up: the path works end to end.
    mark = OutboxMessage.objects.order_by("-id").values_list("id", flat=True).first() or 0
    status, big = submit(maker_a, "1000")
    assert status == 201, big
    status, small = submit(maker_b, "10")
    assert status == 201, small
    wait_for(
        lambda: outbox_after(mark).count() == 4 and not outbox_after(mark).filter(done_at__isnull=True).exists(),
        timeout=60,
        what="the worker to send the first requests' notifications",
    )

    # Redis dies; manufacturers keep submitting (concurrently) and a manager approves.
    broker.redis.kill()
    assert not broker.redis.ping()
    mark = outbox_after(mark).last().pk
    orders = [(maker_a, "25"), (maker_b, "15"), (maker_a, "30"), (maker_b, "20"), (maker_a, "35"), (maker_b, "5")]
    with ThreadPoolExecutor(max_workers=3) as pool:
        answers = list(pool.map(lambda order: submit(*order), orders))
    assert [status for status, _ in answers] == [201] * len(orders), answers
    status, approved = web.call("POST", f"/api/v1/drawdown-requests/{big['id']}/approve/", token=tokens["manager1"])
    assert status == 200, approved

    numbers = [body["number"] for _, body in answers]
    ids = [body["id"] for _, body in answers]
    stored = dict(DrawdownRequest.objects.filter(pk__in=ids).values_list("pk", "status"))
    assert stored == dict.fromkeys(ids, DrawdownRequest.Status.SUBMITTED)
    pending = list(outbox_after(mark))
    assert Counter(m.task for m in pending) == {NOTIFY_STATUS: 7, NOTIFY_MANAGERS: 6, RECHECK: 1}
    assert all(m.sent_at is None and m.done_at is None and m.attempts == 1 and m.last_error for m in pending)
    rechecks_before = CoverageRun.objects.filter(trigger="recheck").count()

    # Redis is back on the same port (empty: it kept nothing). The drain resends what was left.
    broker.redis.start()
    assert broker.call(DRAIN, timeout=90) == len(pending)
    wait_for(
        lambda: not outbox_after(mark).filter(done_at__isnull=True).exists(),
        timeout=60,
        what="the drained messages to be done",
    )
    # A second drain finds nothing; duplicate deliveries of every message do nothing.
    assert broker.call(DRAIN, timeout=30) == 0
    duplicates = [broker.send(m.task, outbox_id=m.pk) for m in pending]
    assert [broker.result(task_id, timeout=30) for task_id in duplicates] == [None] * len(pending)
    assert broker.call(DRAIN, timeout=30) == 0

    done = list(outbox_after(mark))
    assert all(m.done_at is not None and m.sent_at is not None and m.attempts == 2 for m in done)
    assert CoverageRun.objects.filter(trigger="recheck").count() == rechecks_before + 1
    subjects = Counter(str(message["Subject"]) for message in _mails(procs.mail_dir))
    expected = {f"[Vault] {n} submitted: {material.code}" for n in [big["number"], small["number"], *numbers]}
    expected |= {f"[Vault] New drawdown request {n} (Routine)" for n in [big["number"], small["number"], *numbers]}
    expected.add(f"[Vault] {big['number']} approved: {material.code}")
    assert subjects == Counter(expected), "every notification e-mailed exactly once"
    _assert_vault_check_passes()


# --- 2. SIGKILL inside the coverage check and inside the interest accrual ---------------------------


@logs_on_failure
def test_worker_killed_inside_the_coverage_check_reruns_to_one_run_and_one_alert(
    procs, broker, chart_of_accounts, manager, material, site
):
    other = MaterialFactory(code="GA", name="Gallium")
    for item, per_month in ((material, "3000"), (other, "100")):
        LotFactory(material=item, site=site, initial_quantity="1000", by=manager)
        months = []
        month = timezone.localdate().replace(day=1)
        for _ in range(24):
            months.append(month)
            month = (month + timedelta(days=32)).replace(day=1)
        rows = [coverage.ForecastRow(item.pk, None, m, D(per_month)) for m in months]
        coverage.forecast_upload(rows=rows, by=manager, source="test")
    # The setup's rechecks ran here (eager): start from no run, no alert, no message.
    Alert.objects.all().delete()
    CoverageRun.objects.all().delete()
    OutboxMessage.objects.all().delete()

    worker = procs.worker(broker_url=broker.redis.url(0), result_backend=broker.redis.url(1))
    worker.wait_log(" ready.", timeout=60)
    with _connect() as holder:
        # The check locks the materials, writes its run, then must insert the snapshots: hold it
        # there, inside its transaction.
        holder.execute("LOCK TABLE coverage_coveragesnapshot IN SHARE MODE")
        task_id = broker.send("vault.coverage.tasks.coverage_check_all")
        stuck = _blocked_by(holder)
        assert stuck["relation"] == "coverage_coveragesnapshot" and stuck["xid"], stuck  # its run is written
        killed = _kill_pool_child(worker)
        holder.rollback()
    run_id = broker.result(task_id, timeout=90)
    wait_for(lambda: _backend_gone(stuck["pid"]), timeout=30, what="the killed child's session to end")
    assert "signal 9" in worker.log.read_text(), f"pool child {killed} should have been reported lost"

    run = CoverageRun.objects.get()  # the killed attempt left nothing
    assert run.pk == run_id and run.trigger == "schedule" and run.material_count == 2
    assert sorted(CoverageSnapshot.objects.values_list("run_id", "material_id")) == sorted(
        [(run.pk, material.pk), (run.pk, other.pk)]
    )
    alert = Alert.objects.get(resolved_at__isnull=True)
    assert (alert.material_id, alert.level, alert.opened_by_run_id) == (material.pk, Alert.Level.BREACH, run.pk)
    assert run.alerts_opened == 1
    wait_for(
        lambda: OutboxMessage.objects.filter(task=ALERTS_NOTIFY, done_at__isnull=False).exists(),
        timeout=60,
        what="the alert e-mail",
    )
    assert OutboxMessage.objects.get().task == ALERTS_NOTIFY
    assert [str(m["Subject"]) for m in _mails(procs.mail_dir)] == ["Vault coverage: 1 alert(s) opened, 1 breach"]
    _assert_ledger_balanced()
    _assert_vault_check_passes()


@logs_on_failure
def test_worker_killed_inside_an_interest_accrual_reruns_to_one_accrual_per_facility_and_day(
    procs, broker, chart_of_accounts, finance
):
    first, through = date(2026, 11, 1), date(2026, 11, 10)
    days = (through - first).days + 1
    loans = [make_facility(by=finance, code=code) for code in ("LOAN-1", "LOAN-2")]
    for loan, amount in zip(loans, ("1000000.00", "2500000.00"), strict=True):
        disbursed_tranche(facility=loan, amount=amount, on=first, by=finance)
    entries_before = JournalEntry.objects.count()

    worker = procs.worker(broker_url=broker.redis.url(0), result_backend=broker.redis.url(1))
    worker.wait_log(" ready.", timeout=60)
    with _connect() as row_holder, _connect() as table_holder:
        # Facility 2's row lock: the task accrues facility 1 (its own transaction, committed)...
        row_holder.execute("SELECT id FROM financing_facility WHERE id = %s FOR UPDATE", [loans[1].pk])
        task_id = broker.send("vault.financing.tasks.accrue_interest", through=str(through))
        _blocked_by(row_holder)
        assert InterestAccrual.objects.filter(facility=loans[0]).count() == days
        # ...then, let into facility 2, writes its accruals and stops before their journal entries.
        table_holder.execute("LOCK TABLE ledger_journalentry IN SHARE MODE")
        row_holder.rollback()
        stuck = _blocked_by(table_holder)
        assert stuck["relation"] == "ledger_journalentry" and stuck["xid"], stuck  # accruals written
        killed = _kill_pool_child(worker)
        table_holder.rollback()
    assert broker.result(task_id, timeout=90) == days  # the rerun accrued facility 2 only
    wait_for(lambda: _backend_gone(stuck["pid"]), timeout=30, what="the killed child's session to end")
    assert "signal 9" in worker.log.read_text(), f"pool child {killed} should have been reported lost"

    for loan in loans:
        accruals = InterestAccrual.objects.filter(facility=loan)
        assert sorted(accruals.values_list("date", flat=True)) == [first + timedelta(days=n) for n in range(days)]
        expense = JournalLine.objects.filter(
            entry__source_type="accrual", entry__source_id__in=accruals.values("pk"), debit__gt=0
        ).aggregate(total=Sum("debit"))["total"]
        assert expense == accruals.aggregate(total=Sum("amount"))["total"] > 0
    assert JournalEntry.objects.count() == entries_before + 2 * days
    assert JournalEntry.objects.filter(source_type="accrual").values("source_id").distinct().count() == 2 * days
    _assert_ledger_balanced()
    _assert_vault_check_passes()
