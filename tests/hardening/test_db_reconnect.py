"""The database connection drops between requests (failover, restart, idle kill): the next
request still succeeds. Runs Vault under gunicorn (one sync worker keeping its connection, as in
production) against the test database, and kills that worker's PostgreSQL backend in between."""

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(url: str) -> int:
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 (loopback only)
        return response.status


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_next_request_succeeds_after_the_connection_is_killed():
    db = connection.settings_dict
    url = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "config.settings.test"}
    server = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "gunicorn", "config.wsgi", "-b", f"127.0.0.1:{port}", "-w", "1", "--timeout", "30"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        health = f"http://127.0.0.1:{port}/readyz"
        for _ in range(100):
            try:
                assert _get(health) == 200
                break
            except OSError:
                time.sleep(0.1)
        else:
            pytest.fail("gunicorn did not start")
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            assert cursor.fetchall(), "the worker should have held a connection to kill"
        assert _get(health) == 200
        assert _get(health) == 200
    finally:
        server.terminate()
        server.wait(timeout=10)
