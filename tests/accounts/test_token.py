"""API tokens (docs/security.md, "API tokens"): `POST /api/v1/auth/token/` issues a knox token that
expires, the database keeps its digest only, `DELETE` revokes it (or all of its user's), and a
user holds a bounded number. Revocation by the database (password, deactivation):
test_token_revocation.py; the admin: test_token_admin.py."""

import hashlib
import importlib
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from types import SimpleNamespace

import pytest
import time_machine
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import connection
from django.db.migrations.recorder import MigrationRecorder
from django.test import Client
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from knox.models import AuthToken
from knox.settings import knox_settings
from rest_framework.test import APIClient

from config.settings import base
from tests.factories import UserFactory, api_token
from tests.second_factor import admin_login_post
from vault.accounts.errors import InvalidCredentials
from vault.accounts.services import token_create

URL = "/api/v1/auth/token/"
API = "/api/v1/positions/"  # any staff read
PASSWORD = "correct-horse-9"


@pytest.fixture
def alice(db):
    return UserFactory(username="alice", role="auditor", password=PASSWORD)


@pytest.fixture
def bob(db):
    return UserFactory(username="bob", role="auditor")


def status_with(key: str) -> int:
    """The status of an API call made with the key `key`."""
    return APIClient().get(API, HTTP_AUTHORIZATION=f"Token {key}").status_code


def obtain(username: str = "alice", password: str = PASSWORD):
    return APIClient().post(URL, {"username": username, "password": password}, format="json")


def revoke(key: str, query: str = ""):
    return APIClient().delete(URL + query, HTTP_AUTHORIZATION=f"Token {key}")


# --- issuing ------------------------------------------------------------------------------------------


def test_exchange_password_for_token_and_use_it(alice):
    response = obtain()
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"token", "expiry"}
    key = body["token"]
    assert len(key) == 64 and int(key, 16) >= 0
    assert status_with(key) == 200
    # Each call issues another token (one per integration or device); both work.
    other = obtain().json()["token"]
    assert other != key
    assert (status_with(key), status_with(other)) == (200, 200)
    assert AuthToken.objects.filter(user=alice).count() == 2


def test_the_database_holds_a_digest_and_a_prefix_never_the_key(alice):
    key = obtain().json()["token"]
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM knox_authtoken")
        rows = cursor.fetchall()
    assert len(rows) == 1
    assert not any(key in str(value) for value in rows[0])
    token = AuthToken.objects.get(user=alice)
    assert token.digest == hashlib.sha512(key.encode()).hexdigest()
    assert token.token_key == key[:15]  # the identifier: 196 of the key's 256 bits stay secret
    assert status_with(key) == 200
    # Neither the digest nor the stored prefix is a credential.
    assert status_with(token.digest) == 401
    assert status_with(token.token_key + "0" * 49) == 401


def test_the_key_is_never_logged(alice, caplog):
    caplog.set_level("DEBUG")
    key = obtain().json()["token"]
    status_with(key)
    assert key not in caplog.text
    assert AuthToken.objects.get(user=alice).token_key in caplog.text  # the issue is logged, by its prefix


@pytest.mark.parametrize(
    ("body", "code", "fields"),
    [
        ({"username": "alice", "password": "wrong"}, "invalid_credentials", {"non_field_errors"}),
        ({"username": "nobody", "password": PASSWORD}, "invalid_credentials", {"non_field_errors"}),
        ({"username": "alice"}, "invalid", {"password"}),
        ({}, "invalid", {"username", "password"}),
        ({"username": ["alice"], "password": {"x": 1}}, "invalid", {"username", "password"}),
        ({"username": "alice", "password": "p" * 5000}, "invalid", {"password"}),
        ({"username": "a" * 151, "password": PASSWORD}, "invalid", {"username"}),
    ],
)
def test_bad_input_is_400_naming_the_field(alice, body, code, fields):
    response = APIClient().post(URL, body, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == code
    assert set(response.json()["errors"]) == fields
    assert not AuthToken.objects.exists()


def test_wrong_password_and_unknown_user_look_the_same(alice):
    assert obtain(password="wrong").json() == obtain(username="nobody").json()


def test_inactive_user_gets_no_token(alice):
    alice.is_active = False
    alice.save(update_fields=["is_active"])
    response = obtain()
    assert (response.status_code, response.json()["code"]) == (400, "invalid_credentials")
    assert not AuthToken.objects.exists()


def test_no_token_for_credentials_changed_since_they_were_checked(alice):
    """token_create locks the user's row and compares: a password changed (or a deactivation)
    committed between the check and the issue refuses the issue."""
    stale = type(alice).objects.get(pk=alice.pk)
    type(alice).objects.filter(pk=alice.pk).update(password=make_password("rotated-pass-w0rd"))
    with pytest.raises(InvalidCredentials):
        token_create(user=stale)
    fresh = type(alice).objects.get(pk=alice.pk)
    type(alice).objects.filter(pk=alice.pk).update(is_active=False)
    with pytest.raises(InvalidCredentials):
        token_create(user=fresh)
    assert not AuthToken.objects.exists()


@pytest.mark.parametrize(
    "header",
    [
        "Token nope",
        "Token " + "0" * 40,  # the shape of an old DRF key
        "Token " + "0" * 64,  # well formed, unknown
        "Token " + "\xe9" * 64,  # not UTF-8 once encoded (knox alone: UnicodeDecodeError, a 500)
        "Token " + "\x00" * 64,  # a NUL byte never reaches the database
        "Token " + "A" * 64,  # upper case: knox's keys are lowercase hex
        "Token",
        "Token a b",
    ],
)
def test_a_bad_or_malformed_key_is_401(alice, header):
    api_token(alice)
    response = APIClient().get(API, HTTP_AUTHORIZATION=header)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


def test_no_key_is_401(alice):
    assert APIClient().get(API).status_code == 401


def test_token_endpoint_is_throttled(client, alice):
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
    response = admin_login_post(client, "alice", PASSWORD, next_url="/admin/")
    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200


# --- expiry -------------------------------------------------------------------------------------------


def test_the_ttl_is_the_setting_seven_days_by_default():
    assert settings.VAULT_API_TOKEN_TTL_HOURS == 7 * 24
    assert timedelta(hours=settings.VAULT_API_TOKEN_TTL_HOURS) == knox_settings.TOKEN_TTL
    assert knox_settings.AUTO_REFRESH is False


@pytest.mark.parametrize(("raw", "value"), [("", 168), ("12", 12), (" 1 ", 1), ("2160", 2160)])
def test_the_ttl_setting_reads_the_environment(monkeypatch, raw, value):
    monkeypatch.setenv("VAULT_API_TOKEN_TTL_HOURS", raw)
    assert base.env_int("VAULT_API_TOKEN_TTL_HOURS", 168, minimum=1, maximum=2160) == value


@pytest.mark.parametrize("raw", ["0", "-5", "2161", "7d", "1.5"])
def test_a_ttl_setting_out_of_bounds_stops_the_process(monkeypatch, raw):
    from django.core.exceptions import ImproperlyConfigured

    monkeypatch.setenv("VAULT_API_TOKEN_TTL_HOURS", raw)
    with pytest.raises(ImproperlyConfigured, match="VAULT_API_TOKEN_TTL_HOURS"):
        base.env_int("VAULT_API_TOKEN_TTL_HOURS", 168, minimum=1, maximum=2160)


def test_a_token_expires_after_the_ttl_however_much_it_is_used(alice):
    now = timezone.now()
    with time_machine.travel(now, tick=False):
        response = obtain()
    key, expiry = response.json()["token"], parse_datetime(response.json()["expiry"])
    assert expiry == now + timedelta(hours=settings.VAULT_API_TOKEN_TTL_HOURS)
    with time_machine.travel(expiry - timedelta(days=3), tick=False):
        assert status_with(key) == 200
    with time_machine.travel(expiry - timedelta(seconds=1), tick=False):
        assert status_with(key) == 200
    assert AuthToken.objects.get(user=alice).expiry == expiry  # use did not move it (no auto-refresh)
    with time_machine.travel(expiry + timedelta(seconds=1), tick=False):
        assert status_with(key) == 401
    assert not AuthToken.objects.filter(user=alice).exists()  # knox deletes an expired token it meets


def test_a_shorter_ttl_applies_to_new_tokens(alice, settings):
    settings.REST_KNOX = {**settings.REST_KNOX, "TOKEN_TTL": timedelta(hours=1)}
    key = obtain().json()["token"]
    with time_machine.travel(timezone.now() + timedelta(minutes=61), tick=False):
        assert status_with(key) == 401


# --- at most so many live tokens per user -------------------------------------------------------------


def test_the_limit_is_the_setting_ten_by_default():
    assert settings.VAULT_API_TOKEN_LIMIT_PER_USER == 10
    assert knox_settings.TOKEN_LIMIT_PER_USER == 10


def test_a_user_holds_at_most_the_limit_of_live_tokens(alice, bob, settings):
    settings.REST_KNOX = {**settings.REST_KNOX, "TOKEN_LIMIT_PER_USER": 2}
    first, second = obtain().json()["token"], obtain().json()["token"]
    refused = obtain()
    assert refused.status_code == 409
    assert refused.json()["code"] == "token_limit_reached" and refused.json()["limit"] == "2"
    assert AuthToken.objects.filter(user=alice).count() == 2
    assert (status_with(first), status_with(second)) == (200, 200)
    api_token(bob)  # per user: bob is not held back by alice's tokens
    assert revoke(first).status_code == 204
    assert obtain().status_code == 200  # a revoked token frees its place


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_logins_do_not_exceed_the_limit(settings):
    """Eight logins at once, a limit of 3: the user's row lock lets exactly three through."""
    settings.REST_KNOX = {**settings.REST_KNOX, "TOKEN_LIMIT_PER_USER": 3}
    UserFactory(username="alice", role="auditor", password=PASSWORD)
    start = threading.Barrier(8)

    def login(_):
        try:
            start.wait(timeout=10)
            return obtain().status_code
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=8) as pool:
        codes = sorted(pool.map(login, range(8)))
    assert codes == [200] * 3 + [409] * 5
    assert AuthToken.objects.count() == 3


def test_expired_tokens_do_not_count_and_are_deleted_at_the_next_issue(alice, settings):
    settings.REST_KNOX = {**settings.REST_KNOX, "TOKEN_LIMIT_PER_USER": 2}
    obtain(), obtain()
    with time_machine.travel(timezone.now() + timedelta(hours=settings.VAULT_API_TOKEN_TTL_HOURS, seconds=1)):
        assert obtain().status_code == 200
        assert AuthToken.objects.filter(user=alice).count() == 1


# --- revocation by the owner: DELETE /api/v1/auth/token/ --------------------------------------------


def test_delete_revokes_the_token_sent_and_no_other(alice, bob):
    first, second, bobs = api_token(alice), api_token(alice), api_token(bob)
    response = revoke(first)
    assert response.status_code == 204 and response.content == b""
    assert status_with(first) == 401
    assert (status_with(second), status_with(bobs)) == (200, 200)
    assert revoke(first).status_code == 401  # gone: it authenticates nothing, not even its revocation


@pytest.mark.parametrize("query", ["?all=true", "?all=1"])
def test_delete_all_revokes_every_token_of_the_user(alice, bob, query):
    first, second, bobs = api_token(alice), api_token(alice), api_token(bob)
    assert revoke(first, query).status_code == 204
    assert (status_with(first), status_with(second)) == (401, 401)
    assert status_with(bobs) == 200
    assert not AuthToken.objects.filter(user=alice).exists()


@pytest.mark.parametrize("query", ["?all=false", "?all=0", "?all="])
def test_delete_all_false_or_empty_revokes_only_the_one(alice, query):
    first, second = api_token(alice), api_token(alice)
    assert revoke(first, query).status_code == 204
    assert (status_with(first), status_with(second)) == (401, 200)


@pytest.mark.parametrize("query", ["?all=maybe", "?all=true%00", "?all=2"])
def test_delete_with_a_bad_all_is_400_naming_it_and_revokes_nothing(alice, query):
    key = api_token(alice)
    response = revoke(key, query)
    assert response.status_code == 400
    assert response.json()["code"] == "invalid" and set(response.json()["errors"]) == {"all"}
    assert status_with(key) == 200


@pytest.mark.parametrize("query", ["", "?all=true"])
def test_delete_with_a_session_is_400_token_required_and_revokes_nothing(alice, query):
    key = api_token(alice)
    browser = Client()
    browser.force_login(alice)
    response = browser.delete(URL + query)
    assert response.status_code == 400
    assert response.json()["code"] == "token_required"
    assert status_with(key) == 200


def test_delete_without_credentials_is_401(alice):
    key = api_token(alice)
    response = APIClient().delete(URL)
    assert response.status_code == 401 and response["WWW-Authenticate"] == "Token"
    assert status_with(key) == 200


# --- DRF's old table of plain keys ----------------------------------------------------------------


def test_the_migration_drops_drfs_token_table_and_its_records(db):
    """An older database still holds `authtoken_token` (plain keys): accounts/0002 drops it and
    forgets its migrations."""
    migration = importlib.import_module("vault.accounts.migrations.0002_api_tokens")
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE authtoken_token (key varchar(40) PRIMARY KEY, user_id bigint NOT NULL)")
        cursor.execute("INSERT INTO authtoken_token VALUES ('0123456789abcdef0123456789abcdef01234567', 1)")
    MigrationRecorder.Migration.objects.create(app="authtoken", name="0001_initial")
    assert "authtoken_token" in connection.introspection.table_names()
    migration.drop_drf_tokens(None, SimpleNamespace(connection=connection))
    assert "authtoken_token" not in connection.introspection.table_names()
    assert not MigrationRecorder.Migration.objects.filter(app="authtoken").exists()
    migration.drop_drf_tokens(None, SimpleNamespace(connection=connection))  # and again: nothing to do
