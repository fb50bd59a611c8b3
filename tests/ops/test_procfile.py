"""The production Procfile, scaled out as README says, against PostgreSQL and a real Redis: two
web processes and two workers on one "box", exactly one beat; a second box started with a beat
by mistake stands by instead of scheduling twice."""

import json
import os
import signal
import sys
import urllib.request
from pathlib import Path

import pytest
from django.db import connection

from tests.factories import LotFactory, api_token
from tests.hardening.processes import ROOT, Process, database_url, descendants, free_port, wait_for
from tests.hardening.test_faults import Web, broker, chart_of_accounts, entitle, procs  # noqa: F401
from vault.core.models import OutboxMessage

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True), pytest.mark.real_clock]
SECRET = "k7Qp2vXz9LmN4bRt8WcY1sDf6GhJ3kUe5AoPi0ZxCvBnM2qWeRtYuIoPaSdFgHjK"  # noqa: S105


def _box(tmp_path: Path, *, name: str, port: int, concurrency: str, broker_url: str) -> Process:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PYTEST", "CELERY_", "VAULT_TEST"))}
    env.update(
        PATH=f"{Path(sys.executable).parent}:{env.get('PATH', '')}",
        DJANGO_SETTINGS_MODULE="config.settings.production",
        DJANGO_SECRET_KEY=SECRET,
        DJANGO_SECURE_SSL_REDIRECT="false",
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
        DATABASE_URL=database_url(connection.settings_dict),
        CELERY_BROKER_URL=broker_url,
        CACHE_URL=broker_url.rsplit("/", 1)[0] + "/2",
        EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
        WEB_CONCURRENCY="1",
        GUNICORN_THREADS="2",
        VAULT_VAR_DIR=str(tmp_path / name),
        PYTHONUNBUFFERED="1",
    )
    argv = [str(Path(sys.executable).parent / "honcho"), "start", "--no-colour", "-f", "Procfile", "-d", str(ROOT)]
    return Process(name, [*argv, "-p", str(port), "-c", concurrency], log=tmp_path / f"{name}.log", env=env)


def _ready(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=5) as response:  # noqa: S310
            return response.status == 200 and json.loads(response.read())["status"] == "ok"
    except OSError:
        return False


def test_two_webs_two_workers_one_beat_and_a_second_beat_stands_by(
    procs,  # noqa: F811
    broker,  # noqa: F811
    chart_of_accounts,  # noqa: F811
    tmp_path,
    manager,
    maker_a,
    material,
    site,
):
    LotFactory(material=material, site=site, initial_quantity="20000", by=manager)
    entitle(manager=manager, maker=maker_a, material=material)
    token = api_token(maker_a)
    port = free_port()
    first = _box(tmp_path, name="box1", port=port, concurrency="web=2,worker=2,beat=1", broker_url=broker.redis.url(0))
    second = None
    try:
        wait_for(lambda: _ready(port) and _ready(port + 1), timeout=240, what="both web processes to be ready")
        names = wait_for(
            lambda: (
                sorted(name for reply in broker.client.control.ping(timeout=1.0) for name in reply)
                if len(broker.client.control.ping(timeout=1.0)) >= 2
                else None
            ),
            timeout=60,
            what="two workers to answer",
        )
        assert [name.split("@")[0] for name in names] == ["worker.1", "worker.2"]
        first.wait_log("beat: took the", timeout=60)

        # A submission on the second web process is notified by one of the workers.
        status, created = Web(port + 1).submit(token=token, material=material, quantity="100")
        assert status == 201, created
        wait_for(
            lambda: OutboxMessage.objects.exists() and not OutboxMessage.objects.filter(done_at__isnull=True).exists(),
            timeout=60,
            what="the workers to run what the request enqueued",
        )

        # Another box started with a beat by mistake: its beat stands by.
        second = _box(
            tmp_path, name="box2", port=port + 500, concurrency="web=0,worker=0,beat=1", broker_url=broker.redis.url(0)
        )
        second.wait_log("beat: standing by, sending nothing", timeout=60)
        assert "beat: took the" not in second.log.read_text()
    finally:
        everything = [pid for box in (first, second) if box for pid in [box.pid, *descendants(box.pid)]]
        for box in (second, first):
            if box:
                box.stop(timeout=15)
        for pid in everything:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
