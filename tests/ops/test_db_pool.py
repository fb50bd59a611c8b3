"""Connection pooling: DATABASE_POOL_* turn psycopg's pool on (settings), gunicorn sizes it to each
web process's threads, and on PostgreSQL a pool serves more threads than it has connections,
never opening more than its maximum, and makes a thread wait at most its timeout."""

import json
import os
import runpy
import secrets
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import psycopg
import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import OperationalError, connection
from django.db.utils import ConnectionHandler

from config.settings import base

ROOT = Path(__file__).resolve().parents[2]
URL = "postgres://vault:pw@db.internal:5432/vault"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def env(monkeypatch):
    for name in (
        "DATABASE_POOL_MAX_SIZE",
        "DATABASE_POOL_MIN_SIZE",
        "DATABASE_POOL_TIMEOUT",
        "DATABASE_DISABLE_SERVER_SIDE_CURSORS",
        "PROMETHEUS_MULTIPROC_DIR",
    ):
        monkeypatch.setenv(name, "")  # recorded, so that a value set by the code under test is undone
        monkeypatch.delenv(name)
    monkeypatch.setenv("DATABASE_URL", URL)
    return monkeypatch


def test_without_a_pool_size_threads_keep_persistent_connections(env):
    config = base.database_config()
    assert "pool" not in config.get("OPTIONS", {})
    assert (config["CONN_MAX_AGE"], config["CONN_HEALTH_CHECKS"]) == (60, True)
    assert config["DISABLE_SERVER_SIDE_CURSORS"] is False  # .iterator() streams (the ledger export)


def test_server_side_cursors_can_be_switched_off_for_pgbouncer(env):
    env.setenv("DATABASE_DISABLE_SERVER_SIDE_CURSORS", "1")
    assert base.database_config()["DISABLE_SERVER_SIDE_CURSORS"] is True


def test_pool_size_zero_means_no_pool(env):
    env.setenv("DATABASE_POOL_MAX_SIZE", "0")
    config = base.database_config()
    assert "pool" not in config.get("OPTIONS", {})
    assert config["CONN_MAX_AGE"] == 60


def test_pool_size_turns_the_pool_on_and_persistent_connections_off(env):
    env.setenv("DATABASE_POOL_MAX_SIZE", "6")
    env.setenv("DATABASE_POOL_MIN_SIZE", "2")
    env.setenv("DATABASE_POOL_TIMEOUT", "3.5")
    config = base.database_config()
    assert config["OPTIONS"]["pool"] == {"min_size": 2, "max_size": 6, "timeout": 3.5}
    assert config["CONN_MAX_AGE"] == 0  # Django refuses a pool with persistent connections
    assert config["CONN_HEALTH_CHECKS"] is True  # the pool checks a connection before lending it


def test_pool_defaults_keep_one_connection_and_wait_ten_seconds(env):
    env.setenv("DATABASE_POOL_MAX_SIZE", "4")
    assert base.database_config()["OPTIONS"]["pool"] == {"min_size": 1, "max_size": 4, "timeout": 10.0}


def test_pool_keeps_the_options_of_the_url(env):
    env.setenv("DATABASE_URL", URL + "?sslmode=require")
    env.setenv("DATABASE_POOL_MAX_SIZE", "4")
    options = base.database_config()["OPTIONS"]
    assert options["sslmode"] == "require"
    assert options["pool"]["max_size"] == 4


def test_pool_is_for_postgresql_only(env, tmp_path):
    env.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/vault.sqlite3")
    env.setenv("DATABASE_POOL_MAX_SIZE", "4")
    config = base.database_config()
    assert config["ENGINE"] == "django.db.backends.sqlite3"
    assert "pool" not in config.get("OPTIONS", {})


@pytest.mark.parametrize(
    ("variables", "named"),
    [
        ({"DATABASE_POOL_MAX_SIZE": "lots"}, "DATABASE_POOL_MAX_SIZE"),
        ({"DATABASE_POOL_MAX_SIZE": "4", "DATABASE_POOL_TIMEOUT": "soon"}, "DATABASE_POOL_TIMEOUT"),
        ({"DATABASE_POOL_MAX_SIZE": "2", "DATABASE_POOL_MIN_SIZE": "3"}, "DATABASE_POOL_MIN_SIZE"),
        ({"DATABASE_POOL_MAX_SIZE": "2", "DATABASE_POOL_MIN_SIZE": "-1"}, "DATABASE_POOL_MIN_SIZE"),
        ({"DATABASE_POOL_MAX_SIZE": "2", "DATABASE_POOL_TIMEOUT": "0"}, "DATABASE_POOL_TIMEOUT"),
    ],
)
def test_bad_pool_settings_stop_the_start(env, variables, named):
    for name, value in variables.items():
        env.setenv(name, value)
    with pytest.raises(ImproperlyConfigured, match=named):
        base.database_config()


def test_django_builds_the_pool_from_these_settings(env):
    """The options are ones psycopg_pool.ConnectionPool takes (built without connecting)."""
    env.setenv("DATABASE_POOL_MAX_SIZE", "3")
    env.setenv("DATABASE_POOL_TIMEOUT", "2")
    config = base.database_config()
    handler = ConnectionHandler({"default": {**config, "OPTIONS": {}}, "ops_pool_settings": config})
    wrapper = handler["ops_pool_settings"]
    try:
        pool = wrapper.pool
        assert (pool.min_size, pool.max_size, pool.timeout) == (1, 3, 2.0)
        assert pool.closed  # opened on the first query, in the process that runs it
    finally:
        wrapper.close_pool()


def _gunicorn_reads_its_config(env, threads: str) -> dict:
    env.setenv("GUNICORN_THREADS", threads)
    return runpy.run_path(str(ROOT / "config" / "gunicorn.conf.py"))


def test_gunicorn_sizes_each_web_process_pool_to_its_threads(env):
    assert _gunicorn_reads_its_config(env, "3")["threads"] == 3
    assert base.database_config()["OPTIONS"]["pool"]["max_size"] == 3


def test_gunicorn_leaves_an_explicit_pool_size_alone(env):
    env.setenv("DATABASE_POOL_MAX_SIZE", "0")
    _gunicorn_reads_its_config(env, "3")
    assert "pool" not in base.database_config().get("OPTIONS", {})


def test_gunicorn_workers_run_with_the_pool(env, tmp_path):
    """The settings a gunicorn worker runs with (gunicorn's master reads them before any hook)."""
    probe = tmp_path / "pool_probe.py"
    probe.write_text(
        "import json\n"
        "from django.conf import settings\n"
        "from config.wsgi import application as vault\n"
        "def application(environ, start_response):\n"
        "    start_response('200 OK', [('Content-Type', 'application/json')])\n"
        "    return [json.dumps(settings.DATABASES['default']['OPTIONS'].get('pool')).encode()]\n"
    )
    port = _free_port()
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "DATABASE_POOL_"))}
    environment.update(
        DJANGO_SETTINGS_MODULE="config.settings.test",
        DATABASE_URL=URL,  # never connected to: the probe only reads the settings
        GUNICORN_THREADS="3",
        PYTHONPATH=str(tmp_path),
        VAULT_VAR_DIR=str(tmp_path / "var"),
    )
    server = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "gunicorn", "-c", "config/gunicorn.conf.py", "pool_probe", "-b", f"127.0.0.1:{port}"]
        + ["-w", "1"],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(150):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as response:  # noqa: S310
                    pool = json.loads(response.read())
                break
            except OSError:
                time.sleep(0.1)
        else:
            pytest.fail("gunicorn did not start")
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert pool == {"min_size": 1, "max_size": 3, "timeout": 10.0}


# On PostgreSQL: a pool with its own alias and application_name, on the test database.


@pytest.fixture
def pooled(django_db_blocker):
    """pooled(max_size, timeout) -> (handler, alias, application_name); the pool is closed after."""
    made = []

    def make(*, max_size: int, timeout: float):
        alias = f"ops_pool_{secrets.token_hex(4)}"
        application_name = f"vault-pool-test-{secrets.token_hex(4)}"
        settings = {
            **connection.settings_dict,
            "CONN_MAX_AGE": 0,
            "OPTIONS": {
                **connection.settings_dict["OPTIONS"],
                "application_name": application_name,
                "pool": {"min_size": 1, "max_size": max_size, "timeout": timeout},
            },
        }
        # Django wants a "default" alias; this handler's is never used.
        handler = ConnectionHandler({"default": dict(connection.settings_dict), alias: settings})
        made.append((handler, alias))
        return handler, alias, application_name

    with django_db_blocker.unblock():
        yield make
        for handler, alias in made:
            handler[alias].close_pool()


def _monitor() -> psycopg.Connection:
    db = connection.settings_dict
    return psycopg.connect(
        host=db["HOST"] or "127.0.0.1",
        port=db["PORT"] or 5432,
        user=db["USER"],
        password=db["PASSWORD"] or None,
        dbname=db["NAME"],
        autocommit=True,
    )


def _sessions(monitor: psycopg.Connection, application_name: str) -> int:
    row = monitor.execute(
        "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s AND datname = current_database()",
        [application_name],
    ).fetchone()
    return row[0]


@pytest.mark.postgres
@pytest.mark.django_db  # the test database must exist; these tests use connections of their own
def test_pool_serves_more_threads_than_it_has_connections(pooled):
    max_size, threads, rounds = 2, 6, 3
    handler, alias, application_name = pooled(max_size=max_size, timeout=30)
    backends: list[int] = []
    errors: list[BaseException] = []
    start = threading.Barrier(threads)

    def request_like_work():
        wrapper = handler[alias]  # this thread's connection, as in a gunicorn thread
        try:
            start.wait()
            for _ in range(rounds):
                with wrapper.cursor() as cursor:
                    cursor.execute("SELECT pg_backend_pid(), pg_sleep(0.05)")
                    backends.append(cursor.fetchone()[0])
                wrapper.close()  # what Django does at the end of a request: back to the pool
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)
        finally:
            wrapper.close()

    peak = 0
    with _monitor() as monitor:
        workers = [threading.Thread(target=request_like_work) for _ in range(threads)]
        for worker in workers:
            worker.start()
        while any(worker.is_alive() for worker in workers):
            peak = max(peak, _sessions(monitor, application_name))
            time.sleep(0.01)
        for worker in workers:
            worker.join(timeout=30)
        after = _sessions(monitor, application_name)

    assert errors == []
    assert len(backends) == threads * rounds
    assert len(set(backends)) <= max_size  # 18 queries from 6 threads, on 2 server sessions at most
    assert peak <= max_size
    assert after == max_size  # the pool grew to its maximum under the load and keeps the connections


@pytest.mark.postgres
@pytest.mark.django_db
def test_a_thread_waits_at_most_the_pool_timeout(pooled):
    handler, alias, application_name = pooled(max_size=1, timeout=0.5)
    holding, release = threading.Event(), threading.Event()

    def hold_the_only_connection():
        wrapper = handler[alias]
        try:
            wrapper.ensure_connection()
            holding.set()
            release.wait(timeout=30)
        finally:
            wrapper.close()

    holder = threading.Thread(target=hold_the_only_connection)
    holder.start()
    try:
        assert holding.wait(timeout=30)
        waiting = handler[alias]
        began = time.monotonic()
        with pytest.raises(OperationalError, match="couldn't get a connection"):
            waiting.ensure_connection()
        assert time.monotonic() - began < 5
    finally:
        release.set()
        holder.join(timeout=30)
    with waiting.cursor() as cursor:  # the connection is back: the next request gets it
        cursor.execute("SELECT current_setting('application_name')")
        assert cursor.fetchone()[0] == application_name
    waiting.close()
