import pytest
from rest_framework.authtoken.models import Token

from tests.factories import UserFactory
from tests.second_factor import admin_login_post

URL = "/api/v1/auth/token/"


@pytest.fixture
def alice(db):
    return UserFactory(username="alice", role="auditor", password="correct-horse-9")


def test_exchange_password_for_token_and_use_it(client, alice):
    response = client.post(URL, {"username": "alice", "password": "correct-horse-9"})
    assert response.status_code == 200
    key = response.json()["token"]
    assert Token.objects.get(user=alice).key == key
    # The same token on the next call.
    assert client.post(URL, {"username": "alice", "password": "correct-horse-9"}).json()["token"] == key
    api = client.get("/api/v1/positions/", HTTP_AUTHORIZATION=f"Token {key}")
    assert api.status_code == 200


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"username": "alice", "password": "wrong"}, "non_field_errors"),
        ({"username": "nobody", "password": "correct-horse-9"}, "non_field_errors"),
        ({"username": "alice"}, "password"),
        ({}, "username"),
    ],
)
def test_bad_credentials_are_400(client, alice, body, field):
    response = client.post(URL, body)
    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert not Token.objects.exists()


def test_inactive_user_gets_no_token(client, alice):
    alice.is_active = False
    alice.save(update_fields=["is_active"])
    assert client.post(URL, {"username": "alice", "password": "correct-horse-9"}).status_code == 400


def test_bad_or_missing_token_is_401(client, alice):
    assert client.get("/api/v1/positions/", HTTP_AUTHORIZATION="Token nope").status_code == 401
    assert client.get("/api/v1/positions/").status_code == 401


def test_token_endpoint_is_throttled(client, alice, settings):
    from rest_framework.settings import api_settings
    from rest_framework.throttling import ScopedRateThrottle

    rates = {**api_settings.DEFAULT_THROTTLE_RATES, "auth": "3/min"}
    original = ScopedRateThrottle.THROTTLE_RATES
    ScopedRateThrottle.THROTTLE_RATES = rates
    try:
        from django.core.cache import cache

        cache.clear()
        codes = [client.post(URL, {"username": "alice", "password": "wrong"}).status_code for _ in range(4)]
    finally:
        ScopedRateThrottle.THROTTLE_RATES = original
        cache.clear()
    assert codes == [400, 400, 400, 429]


def test_session_login_to_admin(client, alice):
    response = admin_login_post(client, "alice", "correct-horse-9", next_url="/admin/")
    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200
