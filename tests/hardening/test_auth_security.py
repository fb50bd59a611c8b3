"""Logins are throttled and locked out per username and IP, and never reveal whether a user exists."""

import pytest
from axes.models import AccessAttempt
from django.core.cache import cache
from django.test import override_settings
from rest_framework.test import APIClient

from tests.factories import UserFactory
from tests.second_factor import admin_login_post

TOKEN_URL = "/api/v1/auth/token/"


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def alice(db):
    return UserFactory(username="alice", role="manager", password="right-pass-w0rd")


def test_token_for_right_password(alice):
    response = APIClient().post(TOKEN_URL, {"username": "alice", "password": "right-pass-w0rd"}, format="json")
    assert response.status_code == 200
    assert len(response.json()["token"]) == 64  # knox: 32 random bytes, hex


def test_wrong_password_and_unknown_user_look_the_same(alice):
    client = APIClient()
    wrong = client.post(TOKEN_URL, {"username": "alice", "password": "nope"}, format="json")
    unknown = client.post(TOKEN_URL, {"username": "nobody-here", "password": "nope"}, format="json")
    assert wrong.status_code == unknown.status_code == 400
    assert wrong.json() == unknown.json()


def test_admin_login_errors_do_not_reveal_users(client, alice):
    wrong = admin_login_post(client, "alice", "nope")
    unknown = admin_login_post(client, "nobody-here", "nope")
    assert wrong.status_code == unknown.status_code == 200
    assert b"Please enter the correct username and password" in wrong.content
    strip = lambda body: body.replace(b"alice", b"X").replace(b"nobody-here", b"X")  # noqa: E731
    assert strip(wrong.content).count(b"errornote") == strip(unknown.content).count(b"errornote") == 1


@override_settings(AXES_ENABLED=True, AXES_FAILURE_LIMIT=3)
def test_admin_login_locks_out_after_repeated_failures(client, alice):
    for _ in range(3):
        admin_login_post(client, "alice", "nope")
    locked = admin_login_post(client, "alice", "right-pass-w0rd")
    assert locked.status_code in (403, 429)
    assert "_auth_user_id" not in client.session
    # Another user from the same address is not locked out by alice's failures.
    UserFactory(username="bob", role="auditor", password="bob-pass-w0rd")
    assert admin_login_post(client, "bob", "bob-pass-w0rd").status_code == 302


@override_settings(AXES_ENABLED=True, AXES_FAILURE_LIMIT=3)
def test_token_endpoint_locks_out_after_repeated_failures(alice):
    client = APIClient()
    for _ in range(3):
        client.post(TOKEN_URL, {"username": "alice", "password": "nope"}, format="json")
    locked = client.post(TOKEN_URL, {"username": "alice", "password": "right-pass-w0rd"}, format="json")
    assert locked.status_code in (400, 403, 429)
    assert "token" not in (locked.json() if locked["Content-Type"].startswith("application/json") else {})


@pytest.fixture
def auth_rate(monkeypatch):
    """The token endpoint's rate 3/min (the test settings' 1000/min never throttles)."""
    from vault.core.throttles import ScopedRateThrottle

    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", {"auth": "3/min"})


def test_token_endpoint_is_rate_limited(alice, auth_rate):
    client = APIClient()
    codes = [
        client.post(TOKEN_URL, {"username": "alice", "password": "nope"}, format="json").status_code for _ in range(5)
    ]
    assert codes[:3] == [400, 400, 400]
    assert codes[3:] == [429, 429]


# --- X-Forwarded-For: believed only from VAULT_TRUSTED_PROXY_COUNT proxies (vault.core.throttles)


def _token(payload, forwarded=None):
    extra = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded else {}
    return APIClient().post(TOKEN_URL, payload, format="json", **extra)


WRONG = {"username": "alice", "password": "nope"}
RIGHT = {"username": "alice", "password": "right-pass-w0rd"}


def test_token_throttle_ignores_x_forwarded_for_by_default(alice, auth_rate):
    codes = [_token(WRONG, f"198.51.100.{i}").status_code for i in range(4)]
    assert codes == [400, 400, 400, 429]
    assert _token(RIGHT, "198.51.100.99").status_code == 429


@override_settings(AXES_ENABLED=True, AXES_FAILURE_LIMIT=3)
def test_lockout_ignores_x_forwarded_for_by_default(alice):
    for i in range(3):
        _token(WRONG, f"198.51.100.{i}")
    locked = _token(RIGHT, "198.51.100.99")
    assert "token" not in locked.json()
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"127.0.0.1"}
    # The lockout is alice's from this address, not every alice: another address still logs in.
    assert APIClient(REMOTE_ADDR="192.0.2.10").post(TOKEN_URL, RIGHT, format="json").status_code == 200


@override_settings(VAULT_TRUSTED_PROXY_COUNT=1)
def test_behind_one_proxy_the_last_hop_is_the_client(alice, auth_rate):
    # Whatever the client puts left of its address, the proxy appends the address it saw.
    codes = [_token(WRONG, f"10.9.9.{i}, 203.0.113.7").status_code for i in range(4)]
    assert codes == [400, 400, 400, 429]
    assert _token(WRONG, "203.0.113.7, 203.0.113.8").status_code == 400  # another client
    assert _token(RIGHT, "203.0.113.9").status_code == 200


@override_settings(VAULT_TRUSTED_PROXY_COUNT=1, AXES_ENABLED=True, AXES_FAILURE_LIMIT=3)
def test_behind_one_proxy_lockout_is_per_client(alice):
    for i in range(3):
        _token(WRONG, f"10.9.9.{i}, 203.0.113.7")
    assert "token" not in _token(RIGHT, "203.0.113.7").json()
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"203.0.113.7"}
    assert "token" in _token(RIGHT, "203.0.113.7, 203.0.113.8").json()


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        (0, "203.0.113.7", "127.0.0.1"),
        (1, "203.0.113.7", "203.0.113.7"),
        (1, "198.51.100.1, 203.0.113.7", "203.0.113.7"),
        (2, "198.51.100.1, 203.0.113.7, 10.0.0.2", "203.0.113.7"),
        (2, "203.0.113.7", "203.0.113.7"),  # fewer hops than proxies: the leftmost, as DRF
        (1, "198.51.100.1, not-an-address", "127.0.0.1"),  # never stored as the client's address
        (1, "", "127.0.0.1"),
    ],
)
def test_client_ip(rf, settings, proxies, forwarded, expected):
    from vault.core.throttles import client_ip

    settings.VAULT_TRUSTED_PROXY_COUNT = proxies
    assert client_ip(rf.get("/", HTTP_X_FORWARDED_FOR=forwarded)) == expected


def test_request_log_ip_ignores_x_forwarded_for_by_default(rf, manager):
    import structlog
    from django.http import HttpResponse
    from django_structlog.middlewares.request import RequestMiddleware

    seen = {}

    def view(request):
        seen.update(structlog.contextvars.get_contextvars())
        return HttpResponse()

    request = rf.get("/", HTTP_X_FORWARDED_FOR="203.0.113.7")
    request.user = manager
    RequestMiddleware(view)(request)
    assert seen["ip"] == "127.0.0.1"
    structlog.contextvars.clear_contextvars()
