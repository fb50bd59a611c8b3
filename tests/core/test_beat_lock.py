"""Exactly one beat sends the schedule (vault/core/beat.py).

The lock on its own (a file lock on SQLite, an advisory lock on PostgreSQL), the scheduler's
standby and takeover in this process, and two real `celery beat` processes on PostgreSQL and a
private redis-server: only the first one's sends reach the broker, and the second takes over
when the first is killed."""

from __future__ import annotations

import base64
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from config.celery_app import app
from tests.hardening.processes import Process, Processes, database_url, wait_for
from vault.core.beat import AdvisoryLock, FileLock, LockedDatabaseScheduler, beat_lock, postgres_lock_params

PROBE = "beat-lock-probe"
PROBE_TASK = "tests.core.beat_probe"  # no such task: beat sends it by name, nothing consumes it, it is counted


def probe_every_second(*, last_run_ago: timedelta = timedelta(hours=1)) -> PeriodicTask:
    every, _ = IntervalSchedule.objects.get_or_create(every=1, period=IntervalSchedule.SECONDS)
    return PeriodicTask.objects.create(
        name=PROBE, task=PROBE_TASK, interval=every, last_run_at=timezone.now() - last_run_ago
    )


# --- the lock --------------------------------------------------------------------------------------


def test_the_file_lock_is_exclusive_and_released_with_its_holder(tmp_path):
    path = tmp_path / "var" / "celerybeat.lock"
    first, second = FileLock(path), FileLock(path)
    assert first.acquire() and first.acquire(), "checking again keeps it"
    assert path.read_text() == f"{os.getpid()}\n"
    assert not second.acquire() and second.problem == "held by another process"
    first.release()
    assert second.acquire()
    second.release()

    # A process that dies holding the lock leaves it free: the kernel drops its flock.
    holder = subprocess.Popen(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", HOLD_FLOCK, str(path)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        assert not first.acquire()
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait(timeout=10)
        assert first.acquire()
    finally:
        holder.kill()
        holder.wait(timeout=10)
        first.release()


HOLD_FLOCK = """
import fcntl, os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT)
fcntl.flock(fd, fcntl.LOCK_EX)
print("held", flush=True)
time.sleep(60)
"""


@pytest.mark.django_db
def test_the_lock_fits_the_database(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    lock = beat_lock()
    if connection.vendor == "sqlite":
        assert isinstance(lock, FileLock) and lock.path == tmp_path / "celerybeat.lock"
    else:
        assert isinstance(lock, AdvisoryLock) and lock.params["dbname"] == connection.settings_dict["NAME"]


@pytest.mark.postgres
@pytest.mark.django_db
def test_the_advisory_lock_belongs_to_one_session_and_ends_with_it():
    first, second = AdvisoryLock(postgres_lock_params()), AdvisoryLock(postgres_lock_params())
    try:
        assert first.acquire() and first.acquire(), "checking again keeps it (no second lock is stacked)"
        assert not second.acquire() and second.problem == "held by another session"
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT a.application_name, count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
                "WHERE l.locktype = 'advisory' AND l.granted AND a.datname = current_database() GROUP BY 1"
            )
            assert cursor.fetchall() == [("vault-beat-lock", 1)]
            # The holder's session ends (a server restart, a network cut, a dead beat).
            cursor.execute("SELECT pg_terminate_backend(%s)", [first._conn.info.backend_pid])
        wait_for(lambda: second.acquire(), timeout=10, what="the lock to be free")
        assert not first.acquire(), "the holder finds out at its next check"
        assert first.problem.startswith("database:")
    finally:
        first.release()
        second.release()


# --- the scheduler, in this process --------------------------------------------------------------


class ScriptedLock:
    """A lock answering `acquire()` from a script: True while held."""

    problem = "held by another session"

    def __init__(self, *answers: bool):
        self.answers = list(answers)
        self.released = False

    def __str__(self) -> str:
        return "scripted lock"

    def acquire(self) -> bool:
        return self.answers.pop(0)

    def release(self) -> None:
        self.released = True


def scheduler(sent: list) -> LockedDatabaseScheduler:
    """A scheduler that records the periodic task of every message it sends (the probe is no
    registered task, so beat sends it by name), and opens no broker connection."""
    instance = LockedDatabaseScheduler(app=app)
    instance.__dict__["producer"] = None
    instance.send_task = lambda name, *args, headers, **options: sent.append(headers["periodic_task_name"])
    return instance


def beat_records(caplog) -> list[tuple[str, str]]:
    return [(r.levelname, r.getMessage()) for r in caplog.records if r.name == "vault.core.beat"]


# Transactional: the scheduler commits and closes Django's connection as a long-running beat does.
@pytest.mark.django_db(transaction=True)
def test_a_beat_without_the_lock_sends_nothing_until_the_holder_lets_go(settings, tmp_path, caplog):
    settings.VAR_DIR = tmp_path
    settings.VAULT_BEAT_STANDBY_SECONDS = 0.25
    caplog.set_level(logging.INFO, logger="vault.core.beat")
    probe = probe_every_second()
    holder = beat_lock()  # another beat
    assert holder.acquire()
    sent: list[str] = []
    beat = scheduler(sent)
    try:
        assert [beat.tick() for _ in range(3)] == [0.25] * 3
        assert sent == []
        assert not PeriodicTask.objects.filter(name="outbox-drain").exists(), "standing by, it writes nothing"
        [(level, text)] = beat_records(caplog)
        assert level == "WARNING" and "standing by" in text and "another beat" in text

        holder.release()
        assert beat.tick() == 0
        assert sent == [PROBE]
        assert beat_records(caplog)[1:] == [("INFO", f"beat: took the {beat._lock}; this beat now sends the schedule")]
        assert PeriodicTask.objects.filter(name="outbox-drain", enabled=True).exists(), "the settings' schedule"
        probe.refresh_from_db()
        assert probe.last_run_at > timezone.now() - timedelta(seconds=30), "saved at once, for a successor"
    finally:
        beat.close()
    assert holder.acquire(), "closing the scheduler releases the lock"
    holder.release()


@pytest.mark.django_db(transaction=True)
def test_a_beat_that_loses_the_lock_stops_sending_and_resumes_when_it_has_it_again(settings, caplog):
    settings.VAULT_BEAT_STANDBY_SECONDS = 0.25
    caplog.set_level(logging.INFO, logger="vault.core.beat")
    probe_every_second()
    sent: list[str] = []
    beat = scheduler(sent)
    beat._lock = ScriptedLock(True, False, False, False, True)
    try:
        assert beat.tick() == 0 and sent == [PROBE]
        PeriodicTask.objects.filter(name=PROBE).update(last_run_at=timezone.now() - timedelta(hours=1))
        assert [beat.tick() for _ in range(3)] == [0.25] * 3
        assert sent == [PROBE]
        assert beat.tick() == 0 and sent == [PROBE, PROBE], "retaken: the schedule is read afresh"
        levels = [(level, text.split(";")[0].split(" (")[0]) for level, text in beat_records(caplog)]
        assert levels == [
            ("INFO", "beat: took the scripted lock"),
            ("WARNING", "beat: lost the scripted lock"),
            ("INFO", "beat: took the scripted lock"),
        ]
    finally:
        beat.close()
    assert beat._lock.released


def test_the_banner_s_lazy_scheduler_takes_no_lock():
    """`celery beat` builds a lazy scheduler just to print its banner; only ticking takes the lock."""
    lazy = LockedDatabaseScheduler(app=app, lazy=True)
    assert lazy._lock is None and not lazy._leading


# --- two real beats ----------------------------------------------------------------------------------


@pytest.fixture
def procs(_require_postgres, transactional_db, tmp_path):
    processes = Processes(tmp_path=tmp_path, database_url=database_url(connection.settings_dict))
    try:
        yield processes
    finally:
        processes.stop_all()
        with connection.cursor() as cursor:  # sessions of SIGKILLed beats linger until they notice
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )


@pytest.fixture
def redis(procs):
    if shutil.which("redis-server") is None:
        message = "needs redis-server on PATH (it runs a private one)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return procs.redis()


def start_beat(procs: Processes, redis, name: str) -> Process:
    argv = [sys.executable, "-m", "tests.hardening.processes", "-A", "config", "beat", "--max-interval=1"]
    env = {**procs.env(broker_url=redis.url(0)), "VAULT_BEAT_STANDBY_SECONDS": "0.5", "LOG_LEVEL": "INFO"}
    return procs._track(Process(name, argv, log=procs.tmp_path / f"{name}.log", env=env))


def probe_origins(redis) -> list[str]:
    """The process (Celery's `origin`, gen<pid>@host) of every probe message waiting in the queue."""
    import redis as redis_client

    found = []
    for raw in redis_client.Redis(port=redis.port).lrange("celery", 0, -1):
        headers = json.loads(raw)["headers"]
        if headers.get("periodic_task_name") == PROBE:
            found.append(headers["origin"])
    return found


def _decode_for_failure(redis) -> str:
    import redis as redis_client

    raws = redis_client.Redis(port=redis.port).lrange("celery", 0, 3)
    return "\n".join(
        json.dumps({**json.loads(r)["headers"], "body": base64.b64decode(json.loads(r)["body"]).decode()}) for r in raws
    )


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.real_clock
@pytest.mark.django_db(transaction=True)
def test_two_beats_send_one_schedule_and_the_second_takes_over_when_the_first_dies(procs, redis):
    probe_every_second()
    first = start_beat(procs, redis, "beat-1")
    try:
        first.wait_log("took the PostgreSQL advisory lock", timeout=90)
        second = start_beat(procs, redis, "beat-2")
        second.wait_log("standing by", timeout=90)

        # Both run for a while: every probe message comes from the first, about one a second.
        start, before = time.monotonic(), len(probe_origins(redis))
        time.sleep(6)
        origins = probe_origins(redis)
        elapsed = time.monotonic() - start
        assert set(origins) == {f"gen{first.pid}@{os.uname().nodename}"}, _decode_for_failure(redis)
        assert 3 <= len(origins) - before <= elapsed + 2, (len(origins) - before, elapsed)
        assert "Sending due task" not in second.log.read_text()

        # The first dies without a word: the second takes over and sends the schedule alone.
        os.kill(first.pid, signal.SIGKILL)
        first.popen.wait(timeout=10)
        second.wait_log("took the PostgreSQL advisory lock", timeout=60)
        ours = f"gen{second.pid}@{os.uname().nodename}"
        wait_for(lambda: probe_origins(redis).count(ours) >= 3, timeout=30, what="the second beat's probes")
        assert set(probe_origins(redis)) == {origins[0], ours}
        log = second.log.read_text()
        assert log.count("standing by") == 1, "one warning, however many retries"
    except BaseException:
        print(procs.logs())  # noqa: T201 - shown with the failure
        raise
