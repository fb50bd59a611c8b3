"""Password reset by e-mail, in the portal (manufacturers) and the admin (staff): the same answer
whatever the address, a one-time link that expires, the validators, and a reset that ends the
user's API tokens and sessions."""

import re
from datetime import time

import pytest
from django.core import mail
from django.test import Client
from knox.models import AuthToken
from rest_framework.test import APIClient

from tests.clock import TEST_TODAY, travel_to
from tests.factories import UserFactory, api_token
from tests.second_factor import admin_login_post

STRONG = "ore-barge-lantern-7"
PORTAL = {
    "login": "/portal/login/",
    "request": "/portal/password-reset/",
    "sent": "/portal/password-reset/sent/",
    "confirm": "/portal/password-reset/",
    "complete": "/portal/password-reset/done/",
    "home": "/portal/",
    "invalid": "Link not valid",
    "sign_in": lambda client, username, password: client.post(
        "/portal/login/", {"username": username, "password": password}
    ),
}
ADMIN = {
    "login": "/admin/login/",
    "request": "/admin/password_reset/",
    "sent": "/admin/password_reset/done/",
    "confirm": "/admin/reset/",
    "complete": "/admin/reset/done/",
    "home": "/admin/",
    "invalid": "Password reset unsuccessful",
    "sign_in": admin_login_post,  # the admin login's first step (a staff user without a second factor)
}


@pytest.fixture
def maker(org_a):
    return UserFactory(username="maker_a", role="manufacturer", organization=org_a, email="buyer@orga.example")


@pytest.fixture
def staffer(db):
    return UserFactory(username="manager1", role="manager", email="manager@vault.example")


def _link(message, area: dict) -> str:
    """The path of the one link in the e-mail."""
    found = re.findall(r"https?://[^/\s]+(/\S*)", message.body)
    assert len(found) == 1, message.body
    assert found[0].startswith(area["confirm"])
    return found[0]


def _ask(client: Client, area: dict, email: str):
    response = client.post(area["request"], {"email": email})
    assert (response.status_code, response["Location"]) == (302, area["sent"])
    return response


@pytest.mark.parametrize(("area", "who"), [(PORTAL, "maker"), (ADMIN, "staffer")])
def test_full_reset_flow(area, who, request, client):
    user = request.getfixturevalue(who)
    old_token = api_token(user)
    old_session = Client()
    old_session.force_login(user)
    assert old_session.get(area["home"]).status_code == 200

    login_page = client.get(area["login"]).content.decode()
    assert f'href="{area["request"]}"' in login_page  # "Forgot(ten) your password?"
    form = client.get(area["request"])
    assert form.status_code == 200 and '<label for="id_email"' in form.content.decode()
    assert "Project Vault" in form.content.decode()  # the area's own header (the admin's site_header)

    _ask(client, area, user.email.upper())  # the address matches whatever its case
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [user.email]
    link = _link(mail.outbox[0], area)

    opened = client.get(link)  # the token leaves the URL for the session (no Referer leak)
    assert opened.status_code == 302 and opened["Location"].endswith("/set-password/")
    set_password = opened["Location"]
    form_page = client.get(set_password)
    assert form_page.status_code == 200
    assert '<label for="id_new_password1"' in form_page.content.decode()
    assert "at least 12 characters" in form_page.content.decode()  # the validators' help, before typing

    weak = client.post(set_password, {"new_password1": "vault2026", "new_password2": "vault2026"})
    assert weak.status_code == 200 and "too short" in weak.content.decode()
    user.refresh_from_db()
    assert user.check_password("pass-w0rd!")
    assert AuthToken.objects.filter(user=user).exists()

    done = client.post(set_password, {"new_password1": STRONG, "new_password2": STRONG})
    assert (done.status_code, done["Location"]) == (302, area["complete"])
    assert client.get(area["complete"]).status_code == 200
    user.refresh_from_db()
    assert user.check_password(STRONG)
    assert not AuthToken.objects.filter(user=user).exists()
    assert APIClient().get("/api/v1/materials/", HTTP_AUTHORIZATION=f"Token {old_token}").status_code == 401
    assert old_session.get(area["home"])["Location"].startswith(area["login"])  # the old session is over

    signed_in = area["sign_in"](Client(), user.username, STRONG)
    assert signed_in.status_code == 302 and not signed_in["Location"].startswith(area["login"])

    again = Client().get(link)  # one use only
    assert again.status_code == 200 and area["invalid"] in again.content.decode()
    assert "new_password1" not in again.content.decode()


def test_portal_link_page_shows_an_invalid_link(maker, client):
    response = client.get("/portal/password-reset/MQ/not-a-token/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Link not valid" in html and 'href="/portal/password-reset/"' in html
    assert "new_password1" not in html


@pytest.mark.parametrize("area", [PORTAL, ADMIN])
def test_no_account_enumeration(area, maker, staffer, client):
    """A known address, an unknown one and another area's user get the same answer, and only
    the known one of this area gets a mail."""
    own, other = (maker, staffer) if area is PORTAL else (staffer, maker)
    pages = []
    for email in ("nobody@nowhere.example", other.email, own.email):
        response = _ask(client, area, email)
        pages.append(client.get(response["Location"]).content.decode())
    assert pages[0] == pages[1] == pages[2]
    assert [m.to for m in mail.outbox] == [[own.email]]


def test_the_link_expires(maker, client, settings):
    """Asked at 10:00 (Vault's time zone), with a one-hour timeout: good at 10:59:50, dead at 11:00:10."""
    settings.PASSWORD_RESET_TIMEOUT = 3600
    with travel_to(TEST_TODAY, time(10), tick=False):
        _ask(client, PORTAL, maker.email)
    link = _link(mail.outbox[0], PORTAL)
    with travel_to(TEST_TODAY, time(11, 0, 10), tick=False):
        expired = Client().get(link)
    assert expired.status_code == 200 and "Link not valid" in expired.content.decode()
    with travel_to(TEST_TODAY, time(10, 59, 50), tick=False):
        assert Client().get(link).status_code == 302  # still good just before the hour


def test_inactive_users_get_nothing(maker, client):
    maker.is_active = False
    maker.save(update_fields=["is_active"])
    _ask(client, PORTAL, maker.email)
    assert mail.outbox == []


def test_a_link_dies_when_the_user_is_deactivated(maker, client):
    _ask(client, PORTAL, maker.email)
    link = _link(mail.outbox[0], PORTAL)
    maker.is_active = False
    maker.save(update_fields=["is_active"])
    response = client.get(link)
    assert response.status_code == 200 and "Link not valid" in response.content.decode()


def test_a_user_without_a_usable_password_gets_nothing(maker, client):
    maker.set_unusable_password()
    maker.save(update_fields=["password"])
    _ask(client, PORTAL, maker.email)
    assert mail.outbox == []
