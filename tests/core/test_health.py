"""Liveness (/healthz) and readiness (/readyz), as a kubelet or a load balancer sees them: by
the pod's IP address, over plain HTTP, every few seconds."""

import importlib
import os
import time
from datetime import timedelta
from unittest import mock

import pytest
from celery import current_app
from django.conf import settings
from django.db import connections
from django.db.migrations import Migration
from django.db.migrations.executor import MigrationExecutor
from django.db.utils import OperationalError
from django.test import override_settings
from django.urls import set_script_prefix
from django.utils import timezone

from vault.core import health
from vault.core.models import OutboxMessage

pytestmark = pytest.mark.django_db

CHECKS = {"database", "cache", "broker", "migrations", "outbox"}
IP_HOST = "10.0.0.7:8000"  # how a kubelet addresses the pod; not in ALLOWED_HOSTS
DEAD_REDIS = "redis://127.0.0.1:1/0"  # nothing listens on port 1: a Redis that is down
LIVE_REDIS = os.environ.get("VAULT_TEST_REDIS_URL", "redis://127.0.0.1:6379/11")
REDIS_CACHE = "django.core.cache.backends.redis.RedisCache"


def readyz(client, **extra):
    response = client.get("/readyz", **extra)
    return response, response.json()


def failed(body) -> list[str]:
    return sorted(name for name, result in body["checks"].items() if not result["ok"])


def redis_cache(url: str) -> dict:
    return {"default": {"BACKEND": REDIS_CACHE, "LOCATION": url, "OPTIONS": {"socket_connect_timeout": 1}}}


@pytest.fixture
def broker_url(monkeypatch):
    """Point the Celery app (not only the setting: the app read it at startup) at another broker."""

    def point(url: str, transport_options: dict | None = None) -> None:
        monkeypatch.delenv("CELERY_BROKER_URL", raising=False)  # Celery lets it win over the conf
        monkeypatch.setitem(current_app.conf, "broker_url", url)
        monkeypatch.setitem(
            current_app.conf, "broker_transport_options", transport_options or {"socket_connect_timeout": 1}
        )

    return point


@pytest.fixture
def live_redis():
    """Tests that need a Redis server fail under CI when it is unreachable and skip elsewhere."""
    import redis

    try:
        redis.Redis.from_url(LIVE_REDIS, socket_connect_timeout=1).ping()
    except redis.exceptions.RedisError as exc:
        if os.environ.get("CI"):
            pytest.fail(f"needs Redis at {LIVE_REDIS}: {exc}")
        pytest.skip(f"needs Redis at {LIVE_REDIS}: {exc}")
    return LIVE_REDIS


def outbox_message(*, age_seconds: float, sent_seconds_ago: float | None = None, state: str = "pending"):
    """A message written `age_seconds` ago, last sent `sent_seconds_ago` (never: None); `state`
    "done" or "dead" marks it so now."""
    now = timezone.now()
    message = OutboxMessage.objects.create(task="vault.core.tests.nothing")
    OutboxMessage.objects.filter(pk=message.pk).update(
        created_at=now - timedelta(seconds=age_seconds),
        sent_at=None if sent_seconds_ago is None else now - timedelta(seconds=sent_seconds_ago),
        done_at=now if state == "done" else None,
        dead_at=now if state == "dead" else None,
    )
    return message


# --- liveness ---------------------------------------------------------------------------------------


def test_healthz_answers_without_touching_the_database(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "no-store" in response["Cache-Control"]


def test_healthz_stays_up_when_database_cache_and_broker_are_down(client, broker_url):
    broker_url(DEAD_REDIS)
    refused = OperationalError("connection refused")
    with (
        override_settings(CACHES=redis_cache(DEAD_REDIS)),
        mock.patch.object(connections["default"], "ensure_connection", side_effect=refused),
        mock.patch.object(connections["default"], "cursor", side_effect=refused),
    ):
        response = client.get("/healthz")

    assert response.status_code == 200


# --- readiness ----------------------------------------------------------------------------------


def test_readyz_is_200_when_every_dependency_is_up(client, broker_url, tmp_path):
    folder = str(tmp_path / "broker")
    options = {"data_folder_in": folder, "data_folder_out": folder, "control_folder": folder}
    (tmp_path / "broker").mkdir()
    broker_url("filesystem://localhost/", options)
    outbox_message(age_seconds=5)

    response, body = readyz(client)

    assert response.status_code == 200, body
    assert body["status"] == "ok"
    assert set(body["checks"]) == CHECKS
    assert failed(body) == []
    assert body["checks"]["broker"]["transport"] == "filesystem"  # the dev broker counts as reachable
    assert body["checks"]["outbox"]["pending"] == 1
    assert "no-store" in response["Cache-Control"]


def test_readyz_names_the_database_and_skips_what_needs_it(client):
    refused = OperationalError('connection to server at "db" failed: Connection refused')
    with mock.patch.object(connections["default"], "ensure_connection", side_effect=refused):
        response, body = readyz(client)

    assert response.status_code == 503
    assert body["status"] == "unavailable"
    assert failed(body) == ["database", "migrations", "outbox"]
    assert "Connection refused" in body["checks"]["database"]["error"]
    assert body["checks"]["outbox"]["error"] == "not checked: the database is unavailable"
    assert body["checks"]["cache"]["ok"] and body["checks"]["broker"]["ok"]


def test_readyz_names_the_cache_when_redis_is_down(client):
    with override_settings(CACHES=redis_cache(DEAD_REDIS)):
        response, body = readyz(client)

    assert response.status_code == 503
    assert failed(body) == ["cache"]
    assert "ConnectionError" in body["checks"]["cache"]["error"]


def test_readyz_is_200_with_a_live_redis_cache(client, live_redis):
    with override_settings(CACHES=redis_cache(live_redis)):
        response, body = readyz(client)

    assert response.status_code == 200, body


def test_readyz_names_the_broker_when_it_is_down_and_answers_quickly(client, broker_url):
    broker_url(DEAD_REDIS)

    started = time.monotonic()
    response, body = readyz(client)

    assert time.monotonic() - started < 3  # one attempt with a short timeout, no retry loop
    assert response.status_code == 503
    assert failed(body) == ["broker"]
    assert "111" in body["checks"]["broker"]["error"] or "refused" in body["checks"]["broker"]["error"]


def test_readyz_is_200_with_a_live_redis_broker(client, broker_url, live_redis):
    broker_url(live_redis)

    response, body = readyz(client)

    assert response.status_code == 200, body
    assert body["checks"]["broker"]["transport"] == "redis"


def test_readyz_names_unapplied_migrations(client):
    plan = [(Migration("0099_not_applied", "core"), False)]
    with mock.patch.object(MigrationExecutor, "migration_plan", return_value=plan):
        response, body = readyz(client)

    assert response.status_code == 503
    assert failed(body) == ["migrations"]
    assert body["checks"]["migrations"]["error"] == "1 unapplied: core.0099_not_applied"


@override_settings(VAULT_READY_OUTBOX_MAX_AGE_SECONDS=60)
def test_readyz_names_the_outbox_when_a_message_waits_too_long_for_the_broker(client):
    outbox_message(age_seconds=50)
    outbox_message(age_seconds=3600, state="done")
    assert readyz(client)[0].status_code == 200

    outbox_message(age_seconds=75)  # never reached the broker
    response, body = readyz(client)

    assert response.status_code == 503
    assert failed(body) == ["outbox"]
    outbox = body["checks"]["outbox"]
    assert (outbox["pending"], outbox["dead"]) == (2, 0)
    assert 75 <= outbox["longest_wait_seconds"] < 80
    assert "limit 60 s" in outbox["error"]


@override_settings(VAULT_READY_OUTBOX_MAX_AGE_SECONDS=60)
def test_readyz_names_the_outbox_when_no_worker_runs_what_was_sent(client):
    outbox_message(age_seconds=600, sent_seconds_ago=90)  # not resent either: no drain runs

    response, body = readyz(client)

    assert response.status_code == 503
    assert failed(body) == ["outbox"]


@override_settings(VAULT_READY_OUTBOX_MAX_AGE_SECONDS=60)
def test_a_failing_task_being_resent_or_a_dead_message_leaves_the_process_ready(client):
    """Pulling every pod out of the load balancer would not help either: they need a person."""
    outbox_message(age_seconds=1200, sent_seconds_ago=30)  # the drain resends it every 2 minutes
    outbox_message(age_seconds=7200, sent_seconds_ago=3600, state="dead")

    response, body = readyz(client)

    assert response.status_code == 200, body
    assert (body["checks"]["outbox"]["pending"], body["checks"]["outbox"]["dead"]) == (1, 1)


@override_settings(VAULT_READY_OUTBOX_MAX_AGE_SECONDS=0)
def test_a_threshold_of_0_reports_the_outbox_without_failing(client):
    outbox_message(age_seconds=86400)

    response, body = readyz(client)

    assert response.status_code == 200
    assert body["checks"]["outbox"]["longest_wait_seconds"] >= 86400


def test_readyz_reports_every_failure_at_once(client, broker_url):
    broker_url(DEAD_REDIS)
    with override_settings(CACHES=redis_cache(DEAD_REDIS), VAULT_READY_OUTBOX_MAX_AGE_SECONDS=60):
        outbox_message(age_seconds=600)
        response, body = readyz(client)

    assert response.status_code == 503
    assert failed(body) == ["broker", "cache", "outbox"]


# --- how probes reach the process ---------------------------------------------------------------


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_probes_answer_an_ip_host_header_that_other_paths_refuse(client, path):
    assert client.get(path, HTTP_HOST=IP_HOST).status_code == 200
    assert client.get("/admin/login/", HTTP_HOST=IP_HOST).status_code == 400  # Django's host check stays


def test_probes_are_recognized_under_a_script_prefix(client):
    """Mounted under /vault, the first request the process sees may well be a probe."""
    health._early_paths.cache_clear()  # noqa: SLF001
    set_script_prefix("/vault/")  # what the WSGI handler does from SCRIPT_NAME (the test client does not)
    try:
        assert client.get("/healthz", SCRIPT_NAME="/vault", HTTP_HOST=IP_HOST).status_code == 200
    finally:
        set_script_prefix("/")
        health._early_paths.cache_clear()  # noqa: SLF001
    assert client.get("/readyz", HTTP_HOST=IP_HOST).status_code == 200


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
@override_settings(SECURE_SSL_REDIRECT=True)
def test_probes_over_plain_http_are_not_redirected_to_https(client, path):
    assert client.get(path).status_code == 200
    assert client.get("/admin/login/").status_code == 301


def test_production_exempts_probes_and_metrics_from_the_https_redirect(client, monkeypatch):
    """Without ProbeMiddleware too (should it be moved): SecurityMiddleware's own exemptions."""
    monkeypatch.setenv("DJANGO_SECRET_KEY", "x" * 50)
    production = importlib.import_module("config.settings.production")
    middleware = [name for name in settings.MIDDLEWARE if name != "vault.core.health.ProbeMiddleware"]
    with override_settings(
        SECURE_SSL_REDIRECT=True, SECURE_REDIRECT_EXEMPT=production.SECURE_REDIRECT_EXEMPT, MIDDLEWARE=middleware
    ):
        assert [client.get(path).status_code for path in ("/healthz", "/readyz", "/metrics")] == [200, 200, 200]
        assert client.get("/admin/login/").status_code == 301


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_probes_answer_get_and_head_only(client, path):
    assert client.head(path).status_code == 200
    assert client.post(path).status_code == 405
