"""The database revokes a user's API tokens when its password changes or the user goes from active
to inactive (the trigger of accounts/0003, PostgreSQL and SQLite), whatever makes the
change: the services, the admin's two password forms, a raw UPDATE. Every other change of a user
keeps its tokens, and other users' tokens are never touched."""

import pytest
from django.contrib.auth.hashers import make_password
from django.db import connection
from django.test import Client
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient

from tests.factories import UserFactory, api_token
from tests.second_factor import admin_login_post
from vault.accounts.models import User
from vault.accounts.services import user_password_set, user_upsert

STRONG = "ore-barge-lantern-7"
OLD = "pass-w0rd!"  # the factories' password


@pytest.fixture
def alice(db):
    return UserFactory(username="alice", role="auditor")


@pytest.fixture
def bystander(db):
    return UserFactory(username="bystander", role="auditor")


def status_with(key: str) -> int:
    return APIClient().get("/api/v1/positions/", HTTP_AUTHORIZATION=f"Token {key}").status_code


def assert_revoked(user: User, key: str) -> None:
    assert status_with(key) == 401
    assert not AuthToken.objects.filter(user=user).exists()


# --- a new password, however it is set ------------------------------------------------------------


def test_password_set_by_the_service(alice, bystander):
    key, other = api_token(alice), api_token(bystander)
    user_password_set(user=alice, password=STRONG)
    assert_revoked(alice, key)
    assert status_with(other) == 200


def test_password_set_by_user_upsert_as_vault_user_does(alice):
    key = api_token(alice)
    user_upsert(username="alice", role="auditor", password=STRONG)
    assert_revoked(alice, key)


def test_own_password_change_in_the_admin(alice):
    key = api_token(alice)
    browser = Client()
    browser.force_login(alice)
    body = {"old_password": OLD, "new_password1": STRONG, "new_password2": STRONG}
    assert browser.post("/admin/password_change/", body)["Location"] == "/admin/password_change/done/"
    assert_revoked(alice, key)


@pytest.mark.parametrize(
    "body",
    [
        {"usable_password": "true", "password1": STRONG, "password2": STRONG},
        {"usable_password": "false", "unset-password": "1"},  # "Disable password-based authentication"
    ],
)
def test_a_superuser_sets_the_password_in_the_admin(alice, bystander, body):
    key, other = api_token(alice), api_token(bystander)
    root = Client()
    root.force_login(UserFactory(username="root", role="manager", is_superuser=True))
    response = root.post(f"/admin/accounts/user/{alice.pk}/password/", body)
    assert response.status_code == 302, response.content.decode()
    assert_revoked(alice, key)
    assert status_with(other) == 200


def test_a_raw_update_of_the_password(alice, bystander):
    key, other = api_token(alice), api_token(bystander)
    User.objects.filter(pk=alice.pk).update(password=make_password(STRONG))
    assert_revoked(alice, key)
    assert status_with(other) == 200


def test_an_update_in_sql_behind_the_application(alice):
    key = api_token(alice)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE accounts_user SET password = %s WHERE id = %s", ["!unusable", alice.pk])
    assert_revoked(alice, key)


# --- deactivation ---------------------------------------------------------------------------------


def _deactivate_by_save(user):
    user.is_active = False
    user.save(update_fields=["is_active"])


def _deactivate_by_update(user):
    User.objects.filter(pk=user.pk).update(is_active=False)


def _deactivate_in_the_admin(user):
    root = Client()
    root.force_login(UserFactory(username="root", role="manager", is_superuser=True))
    joined = timezone.localtime(user.date_joined)
    body = {  # the change form as the browser posts it, "Active" unticked
        "username": user.username,
        "email": user.email,
        "role": user.role,
        "date_joined_0": joined.date().isoformat(),
        "date_joined_1": joined.time().strftime("%H:%M:%S"),
        "is_staff": "on",
    }
    response = root.post(f"/admin/accounts/user/{user.pk}/change/", body)
    assert response.status_code == 302, response.content.decode()


@pytest.mark.parametrize("deactivate", [_deactivate_by_save, _deactivate_by_update, _deactivate_in_the_admin])
def test_deactivation_deletes_the_tokens(alice, bystander, deactivate):
    key, other = api_token(alice), api_token(bystander)
    deactivate(alice)
    alice.refresh_from_db()
    assert not alice.is_active
    # knox alone refuses an inactive user's token; the row is gone all the same, so that
    # reactivating the user does not bring the old key back to life.
    assert_revoked(alice, key)
    User.objects.filter(pk=alice.pk).update(is_active=True)
    assert status_with(key) == 401
    assert status_with(other) == 200


# --- what keeps the tokens ------------------------------------------------------------------------


def test_other_changes_of_the_user_keep_its_tokens(alice):
    key = api_token(alice)
    alice.last_login = timezone.now()
    alice.save(update_fields=["last_login"])  # every login
    alice.email = "alice@elsewhere.example"
    alice.save()  # a full save writes the same password and is_active again
    User.objects.filter(pk=alice.pk).update(role="manager", is_active=True, password=alice.password)
    user_upsert(username="alice", role="auditor")  # no password: the password is left as it was
    assert status_with(key) == 200
    assert AuthToken.objects.filter(user=alice).count() == 1


def test_a_login_keeps_the_tokens(alice):
    key = api_token(alice)
    assert admin_login_post(Client(), "alice", OLD).status_code == 302
    assert status_with(key) == 200
