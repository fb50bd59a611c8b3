"""The logins with the cache's Redis stopped: the token endpoint keeps its rate limit per process
(200 for good credentials, 400 for bad ones, 429 past the limit, never 500) and says so once in
the log; the admin and portal logins and the lockouts, which do not use the cache, work as usual.
Each test runs a private redis-server (tests/hardening/processes.py) and kills it."""

import logging
import os
import shutil

import pytest
import redis
from axes.models import AccessAttempt
from django.test import override_settings
from rest_framework.test import APIClient

from tests.factories import UserFactory
from tests.hardening.processes import Redis, free_port
from tests.second_factor import admin_login_post
from vault.core import throttles

TOKEN_URL = "/api/v1/auth/token/"
GOOD = {"username": "alice", "password": "right-pass-w0rd"}
BAD = {"username": "alice", "password": "nope"}
LIMIT = 5


@pytest.fixture
def alice(db):
    return UserFactory(username="alice", role="manager", password="right-pass-w0rd")


@pytest.fixture
def cache_redis(tmp_path, monkeypatch):
    """A private redis-server as the default cache (short timeouts), the auth rate LIMIT/min."""
    if shutil.which("redis-server") is None:
        message = "needs redis-server on PATH (it runs a private one)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    server = Redis(port=free_port(), workdir=tmp_path / "redis")
    monkeypatch.setattr(throttles.ScopedRateThrottle, "THROTTLE_RATES", {"auth": f"{LIMIT}/min"})
    monkeypatch.setattr(throttles, "outage", throttles._Outage())
    throttles.local_cache.clear()
    caches = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": server.url(0),
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
    try:
        with override_settings(CACHES=caches):  # the setting_changed receiver resets django.core.cache.caches
            yield server
    finally:
        server.stop()
        throttles.local_cache.clear()


def _post(payload, **extra) -> int:
    response = APIClient().post(TOKEN_URL, payload, format="json", **extra)
    assert response.status_code != 500
    return response.status_code


def _throttle_keys(server: Redis) -> list[bytes]:
    return redis.Redis(port=server.port).keys("*throttle_auth_*")


def _outage_warnings(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "vault.core.throttles" and r.levelno == logging.WARNING]


def test_token_endpoint_counts_per_process_while_redis_is_down(alice, cache_redis, caplog):
    caplog.set_level(logging.INFO, logger="vault.core.throttles")
    assert [_post(GOOD), _post(BAD)] == [200, 400]
    assert _throttle_keys(cache_redis), "the throttle counts in Redis while it answers"
    cache_redis.kill()

    codes = [_post(GOOD), *(_post(BAD) for _ in range(LIMIT - 1))]
    assert codes == [200] + [400] * (LIMIT - 1)  # a fresh count in this process: the limit again
    over = APIClient().post(TOKEN_URL, GOOD, format="json")
    assert over.status_code == 429
    assert int(over["Retry-After"]) > 0
    assert "token" not in over.json()
    assert _post(BAD) == 429
    assert len(_outage_warnings(caplog)) == 1, "one WARNING per outage, not one per request"


def test_throttle_returns_to_redis_when_it_answers_again(alice, cache_redis, caplog, monkeypatch):
    caplog.set_level(logging.INFO, logger="vault.core.throttles")
    cache_redis.kill()
    assert [_post(BAD) for _ in range(LIMIT + 1)] == [400] * LIMIT + [429]
    cache_redis.start()  # an empty Redis on the same port
    # For retry_seconds after a failure the process does not ask Redis (a partition's timeouts).
    assert _post(BAD) == 429
    assert not _throttle_keys(cache_redis)
    monkeypatch.setattr(throttles.outage, "retry_seconds", 0)
    assert _post(BAD) == 400  # counted in Redis again, from zero
    assert _throttle_keys(cache_redis)
    assert throttles.outage.since is None
    assert any("answers again" in r.getMessage() for r in caplog.records)
    cache_redis.kill()
    assert _post(BAD) == 429  # the per-process count of this outage is where the last one left it
    assert len(_outage_warnings(caplog)) == 2


def test_proxy_clients_keep_separate_local_counts(alice, cache_redis, settings):
    settings.VAULT_TRUSTED_PROXY_COUNT = 1
    cache_redis.kill()
    first = {"HTTP_X_FORWARDED_FOR": "203.0.113.7"}
    assert [_post(BAD, **first) for _ in range(LIMIT + 1)][-1] == 429
    assert _post(BAD, HTTP_X_FORWARDED_FOR="203.0.113.8") == 400


@override_settings(AXES_ENABLED=True, AXES_FAILURE_LIMIT=3)
def test_lockout_does_not_need_the_cache(alice, cache_redis):
    cache_redis.kill()
    assert [_post(BAD) for _ in range(3)] == [400, 400, 400]
    locked = APIClient().post(TOKEN_URL, GOOD, format="json")
    assert locked.status_code == 400  # the right password, refused like a wrong one
    assert "token" not in locked.json()
    # Counted in the database: three failures and the refused attempt during the lockout.
    assert AccessAttempt.objects.get(username="alice", ip_address="127.0.0.1").failures_since_start == 4


@override_settings(AXES_ENABLED=True)
def test_admin_and_portal_logins_work_with_redis_down(alice, maker_a, cache_redis, client):
    maker_a.set_password("maker-pass-w0rd")
    maker_a.save(update_fields=["password"])
    cache_redis.kill()
    admin = admin_login_post(client, "alice", "right-pass-w0rd")
    assert admin.status_code == 302
    assert client.session["_auth_user_id"] == str(alice.pk)
    client.logout()
    portal = client.post("/portal/login/", {"username": "maker_a", "password": "maker-pass-w0rd"})
    assert portal.status_code == 302
    assert client.session["_auth_user_id"] == str(maker_a.pk)
    client.logout()
    assert client.post("/portal/login/", {"username": "maker_a", "password": "nope"}).status_code == 200
