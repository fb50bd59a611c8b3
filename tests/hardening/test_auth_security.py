"""Logins are throttled and locked out per username and IP, and never reveal whether a user exists."""

import pytest
from django.core.cache import cache
from django.test import override_settings
from rest_framework.test import APIClient

from tests.factories import UserFactory

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
    assert len(response.json()["token"]) == 40


def test_wrong_password_and_unknown_user_look_the_same(alice):
    client = APIClient()
    wrong = client.post(TOKEN_URL, {"username": "alice", "password": "nope"}, format="json")
    unknown = client.post(TOKEN_URL, {"username": "nobody-here", "password": "nope"}, format="json")
    assert wrong.status_code == unknown.status_code == 400
    assert wrong.json() == unknown.json()


def test_admin_login_errors_do_not_reveal_users(client, alice):
    wrong = client.post("/admin/login/", {"username": "alice", "password": "nope"})
    unknown = client.post("/admin/login/", {"username": "nobody-here", "password": "nope"})
    assert wrong.status_code == unknown.status_code == 200
    assert b"Please enter the correct username and password" in wrong.content
    strip = lambda body: body.replace(b"alice", b"X").replace(b"nobody-here", b"X")  # noqa: E731
    assert strip(wrong.content).count(b"errornote") == strip(unknown.content).count(b"errornote") == 1


@override_settings(AXES_ENABLED=True, AXES_FAILURE_LIMIT=3)
def test_admin_login_locks_out_after_repeated_failures(client, alice):
    for _ in range(3):
        client.post("/admin/login/", {"username": "alice", "password": "nope"})
    locked = client.post("/admin/login/", {"username": "alice", "password": "right-pass-w0rd"})
    assert locked.status_code in (403, 429)
    assert "_auth_user_id" not in client.session
    # Another user from the same address is not locked out by alice's failures.
    UserFactory(username="bob", role="auditor", password="bob-pass-w0rd")
    assert client.post("/admin/login/", {"username": "bob", "password": "bob-pass-w0rd"}).status_code == 302


@override_settings(AXES_ENABLED=True, AXES_FAILURE_LIMIT=3)
def test_token_endpoint_locks_out_after_repeated_failures(alice):
    client = APIClient()
    for _ in range(3):
        client.post(TOKEN_URL, {"username": "alice", "password": "nope"}, format="json")
    locked = client.post(TOKEN_URL, {"username": "alice", "password": "right-pass-w0rd"}, format="json")
    assert locked.status_code in (400, 403, 429)
    assert "token" not in (locked.json() if locked["Content-Type"].startswith("application/json") else {})


def test_token_endpoint_is_rate_limited(alice, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"auth": "3/min"}}
    from rest_framework.settings import api_settings

    api_settings.reload()
    try:
        from vault.accounts.apis import TokenObtainApi

        TokenObtainApi.throttle_classes[0].THROTTLE_RATES = api_settings.DEFAULT_THROTTLE_RATES
        client = APIClient()
        codes = [
            client.post(TOKEN_URL, {"username": "alice", "password": "nope"}, format="json").status_code
            for _ in range(5)
        ]
    finally:
        settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"auth": "1000/min"}}
        api_settings.reload()
        TokenObtainApi.throttle_classes[0].THROTTLE_RATES = api_settings.DEFAULT_THROTTLE_RATES
    assert codes[:3] == [400, 400, 400]
    assert codes[3:] == [429, 429]
