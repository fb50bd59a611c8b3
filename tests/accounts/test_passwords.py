"""AUTH_PASSWORD_VALIDATORS apply to every way a password is set: the user service (and so the
vault_user command), the admin's forms, the password reset (test_password_reset.py)."""

from io import StringIO

import pytest
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command
from django.test import Client
from knox.models import AuthToken

from tests.factories import UserFactory, api_token
from vault.accounts import demo
from vault.accounts.errors import PasswordTooWeak
from vault.accounts.models import User
from vault.accounts.services import password_validate, user_password_set, user_upsert

STRONG = "ore-barge-lantern-7"


def test_a_weak_password_is_refused_with_a_stable_code_and_every_reason(db):
    with pytest.raises(PasswordTooWeak) as exc:
        user_upsert(username="weak", role="auditor", password="password")
    error = exc.value
    assert (error.code, error.field) == ("password_too_weak", "password")
    assert any("too short" in m for m in error.messages) and any("too common" in m for m in error.messages)
    assert error.as_dict() == {
        "code": "password_too_weak",
        "detail": error.message,
        "errors": {"password": error.messages},
    }
    assert not User.objects.filter(username="weak").exists()


def test_minimum_length_is_twelve(db):
    with pytest.raises(PasswordTooWeak, match="at least 12 characters"):
        password_validate(password="q7-lx9-pw2z")  # 11 characters, nothing else wrong with it
    password_validate(password="q7-lx9-pw2zk")  # 12


def test_numeric_and_similar_passwords_are_refused(db):
    with pytest.raises(PasswordTooWeak, match="entirely numeric"):
        password_validate(password="492817365012")
    # compared with the new user's attributes although it is not saved yet
    with pytest.raises(PasswordTooWeak, match="too similar"):
        user_upsert(username="cobaltmanager", role="manager", password="cobaltmanager1")
    assert not User.objects.filter(username="cobaltmanager").exists()


def test_vault_user_command_refuses_a_weak_password_and_lists_why(db):
    with pytest.raises(CommandError) as exc:
        call_command("vault_user", "newbie", "--role", "auditor", "--password", "12345678", stdout=StringIO())
    assert "too short" in str(exc.value) and "entirely numeric" in str(exc.value)
    assert not User.objects.filter(username="newbie").exists()


def test_a_weak_password_leaves_an_existing_user_as_it_was(db):
    user = UserFactory(username="kept", role="auditor")
    api_token(user)
    with pytest.raises(PasswordTooWeak):
        user_upsert(username="kept", role="manager", password="short")
    user.refresh_from_db()
    assert (user.role, user.check_password("pass-w0rd!")) == ("auditor", True)
    assert AuthToken.objects.filter(user=user).exists()


def test_setting_a_password_revokes_api_tokens_and_ends_sessions(db):
    user = UserFactory(username="rotated", role="auditor")
    api_token(user)
    api_token(UserFactory(username="bystander", role="auditor"))
    browser = Client()
    browser.force_login(user)
    assert browser.get("/admin/").status_code == 200
    user_password_set(user=user, password=STRONG)
    user.refresh_from_db()
    assert user.check_password(STRONG)
    assert not AuthToken.objects.filter(user=user).exists()
    assert AuthToken.objects.filter(user__username="bystander").exists()
    assert browser.get("/admin/")["Location"].startswith("/admin/login/")  # the old session is over


def test_vault_user_new_password_revokes_tokens(db):
    user = UserFactory(username="cli", role="auditor")
    api_token(user)
    call_command("vault_user", "cli", "--role", "auditor", "--password", STRONG, stdout=StringIO())
    assert not AuthToken.objects.filter(user=user).exists()
    user.refresh_from_db()
    assert user.check_password(STRONG)


def test_demo_users_are_seeded_through_the_validators(db):
    """The demo goes through user_upsert (no bypass): its password passes every validator for
    every demo user."""
    logins = demo.seed()
    assert [username for username, _ in logins] == [u for u, _, _ in demo.USERS]
    for username, _, _ in demo.USERS:
        user = User.objects.get(username=username)
        password_validate(password=demo.DEMO_PASSWORD, user=user)
        assert user.check_password(demo.DEMO_PASSWORD)


# --- the admin's forms use the validators --------------------------------------------------------------


@pytest.fixture
def superuser_client(db):
    UserFactory(username="root", role="manager", is_superuser=True)
    client = Client()
    client.force_login(User.objects.get(username="root"))
    return client


def test_admin_add_user_form_refuses_a_weak_password(superuser_client):
    Group.objects.get_or_create(name="manager")
    body = {"username": "added", "usable_password": "true", "password1": "vault12", "password2": "vault12"}
    response = superuser_client.post("/admin/accounts/user/add/", body)
    assert response.status_code == 400  # the one answer of the admin's service forms to invalid input
    assert "too short" in response.content.decode()
    assert not User.objects.filter(username="added").exists()
    body.update(password1=STRONG, password2=STRONG)
    assert superuser_client.post("/admin/accounts/user/add/", body).status_code == 302
    assert User.objects.get(username="added").check_password(STRONG)


def test_admin_set_password_form_refuses_a_weak_password(superuser_client):
    user = UserFactory(username="target", role="auditor")
    url = f"/admin/accounts/user/{user.pk}/password/"
    body = {"usable_password": "true", "password1": "target1234", "password2": "target1234"}
    response = superuser_client.post(url, body)
    assert response.status_code == 200
    assert "too short" in response.content.decode()
    user.refresh_from_db()
    assert user.check_password("pass-w0rd!")
    body.update(password1=STRONG, password2=STRONG)
    assert superuser_client.post(url, body).status_code == 302
    user.refresh_from_db()
    assert user.check_password(STRONG)


def test_admin_own_password_change_refuses_a_weak_password(db):
    user = UserFactory(username="self", role="finance")
    client = Client()
    client.force_login(user)
    body = {"old_password": "pass-w0rd!", "new_password1": "password123", "new_password2": "password123"}
    response = client.post("/admin/password_change/", body)
    assert response.status_code == 200
    assert "too common" in response.content.decode()
    user.refresh_from_db()
    assert user.check_password("pass-w0rd!")
    body.update(new_password1=STRONG, new_password2=STRONG)
    assert client.post("/admin/password_change/", body)["Location"] == "/admin/password_change/done/"
    user.refresh_from_db()
    assert user.check_password(STRONG)
