"""Exactly one `celery beat` sends the schedule, however many are started.

`LockedDatabaseScheduler` (CELERY_BEAT_SCHEDULER) is django-celery-beat's DatabaseScheduler behind
a lock that a beat takes on its first tick and holds for its life:

- PostgreSQL: a session-level advisory lock, `pg_try_advisory_lock(BEAT_LOCK_KEY)`, on a connection
  of its own (not Django's, which Django closes and reopens). The server releases it when the
  session ends: the beat exits or dies, or its connection breaks (TCP keepalives find a dead peer).
- SQLite (one machine): an exclusive `flock` on `VAR_DIR/celerybeat.lock`, which the kernel
  releases when the process dies.

Every tick first checks the lock (on PostgreSQL a round trip on the lock's session). A beat without
it sends nothing: it logs one WARNING when it starts standing by, retries every
`VAULT_BEAT_STANDBY_SECONDS`, and logs INFO when it takes over. Taking over reads the schedule
afresh from the database, with the last run times the previous beat saved after each send
(CELERY_BEAT_SYNC_EVERY = 1), so the new beat resumes where the old one stopped.

Left open: a beat whose connection breaks learns it at its next tick, so a task due in that
instant may be sent by both; and a beat that hangs without dying keeps the lock."""

from __future__ import annotations

import fcntl
import logging
import os
from pathlib import Path
from typing import Protocol

import psycopg
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import DEFAULT_DB_ALIAS, connections
from django_celery_beat.schedulers import DatabaseScheduler

log = logging.getLogger(__name__)

# The advisory lock's key ("VAULTBEA"); advisory locks are per database, so each database has its own.
BEAT_LOCK_KEY = 0x5641554C54424541
LOCK_FILE_NAME = "celerybeat.lock"


class BeatLock(Protocol):
    problem: str

    def acquire(self) -> bool:
        """Take the lock, or check it is still ours: True while this process holds it."""

    def release(self) -> None: ...


class AdvisoryLock:
    """A PostgreSQL session-level advisory lock, on a connection opened for it and kept open."""

    def __init__(self, params: dict, *, key: int = BEAT_LOCK_KEY):
        self.params, self.key = params, key
        self.problem = ""
        self._conn: psycopg.Connection | None = None
        self._held = False

    def __str__(self) -> str:
        return f"PostgreSQL advisory lock {self.key}"

    def acquire(self) -> bool:
        try:
            if self._conn is None or self._conn.closed:
                self._conn, self._held = psycopg.connect(**self.params), False
            if self._held:
                self._conn.execute("SELECT 1")  # the session is alive, so the lock is still ours
            else:
                row = self._conn.execute("SELECT pg_try_advisory_lock(%s)", [self.key]).fetchone()
                self._held = bool(row and row[0])
        except psycopg.Error as exc:
            self.problem = f"database: {exc}".strip()
            self.release()
            return False
        self.problem = "" if self._held else "held by another session"
        return self._held

    def release(self) -> None:
        """Close the session: the server releases the lock with it."""
        conn, self._conn, self._held = self._conn, None, False
        if conn is not None:
            conn.close()


class FileLock:
    """An exclusive flock on a file, held while its descriptor is open."""

    def __init__(self, path: Path):
        self.path = path
        self.problem = ""
        self._fd: int | None = None

    def __str__(self) -> str:
        return f"file lock {self.path}"

    def acquire(self) -> bool:
        if self._fd is not None:
            return True
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            self.problem = str(exc)
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            self.problem = "held by another process"
            return False
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())  # for people: which process holds it
        self._fd, self.problem = fd, ""
        return True

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)


def postgres_lock_params(alias: str = DEFAULT_DB_ALIAS) -> dict:
    """psycopg.connect() arguments for the lock's own session, from Django's settings."""
    params = connections[alias].get_connection_params()
    for django_only in ("cursor_factory", "context", "prepare_threshold"):
        params.pop(django_only, None)
    params["autocommit"] = True
    for name, value in {
        "application_name": "vault-beat-lock",
        "connect_timeout": 5,
        "keepalives": 1,
        "keepalives_idle": 30,
        "keepalives_interval": 10,
        "keepalives_count": 3,
        "tcp_user_timeout": 30_000,
    }.items():
        params.setdefault(name, value)
    return params


def beat_lock(alias: str = DEFAULT_DB_ALIAS) -> BeatLock:
    vendor = connections[alias].vendor
    if vendor == "postgresql":
        return AdvisoryLock(postgres_lock_params(alias))
    if vendor == "sqlite":
        return FileLock(Path(settings.VAR_DIR) / LOCK_FILE_NAME)
    raise ImproperlyConfigured(f"No beat lock for a {vendor} database: use PostgreSQL (or SQLite on one machine).")


class LockedDatabaseScheduler(DatabaseScheduler):
    """DatabaseScheduler that sends only while this beat holds the beat lock (module docstring)."""

    def __init__(self, *args, **kwargs):
        # The lock is taken on the first tick, never here: `celery beat` also builds a lazy
        # instance of the scheduler just to print its banner.
        self._lock: BeatLock | None = None
        self._leading = False
        self._standing_by = False
        super().__init__(*args, **kwargs)

    def setup_schedule(self):
        """Deferred to the takeover: a beat standing by neither reads nor writes the schedule."""

    def tick(self, *args, **kwargs):
        if not self._hold_lock():
            return settings.VAULT_BEAT_STANDBY_SECONDS
        return super().tick(*args, **kwargs)

    def close(self):
        try:
            super().close()
        finally:
            if self._lock is not None:
                self._lock.release()
            self._leading = False

    def _hold_lock(self) -> bool:
        if self._lock is None:
            self._lock = beat_lock()
        held = self._lock.acquire()
        if held and not self._leading:
            self._take_over()
        elif not held and self._leading:
            log.warning("beat: lost the %s (%s); standing by, sending nothing", self._lock, self._lock.problem)
            self._leading, self._standing_by = False, True
            self._dirty.clear()  # run times are the next holder's to write now
        elif not held and not self._standing_by:
            log.warning(
                "beat: standing by, sending nothing: the %s is not ours (%s); another beat is running. "
                "Retrying every %s s.",
                self._lock,
                self._lock.problem,
                settings.VAULT_BEAT_STANDBY_SECONDS,
            )
            self._standing_by = True
        return held

    def _take_over(self) -> None:
        log.info("beat: took the %s; this beat now sends the schedule", self._lock)
        self._leading, self._standing_by = True, False
        # Read every entry afresh (with the run times the previous holder saved), store the
        # settings' schedule, and rebuild the heap from it on this tick.
        self._initial_read = True
        self._heap = None
        super().setup_schedule()
