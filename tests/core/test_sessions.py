"""Sessions end a working day (SESSION_COOKIE_AGE) after their login, however busy; a staff
session's cookie also ends with the browser, a manufacturer's lasts the same day."""

from datetime import time

import pytest
from django.conf import settings

from tests.clock import TEST_TODAY, travel_to
from tests.e2e.helpers import PASSWORD
from tests.second_factor import admin_login_post
from vault.core.sessions import LOGIN_AT

pytestmark = pytest.mark.django_db

LOGIN = time(9)  # logged in at 9:00: the day ends at 19:00 (clocks stopped: to the second)


def test_default_is_ten_hours():
    assert settings.SESSION_COOKIE_AGE == 10 * 3600


def admin_login(client, user):
    response = admin_login_post(client, user.username, PASSWORD)
    assert response.status_code == 302
    return response


def test_staff_login_is_a_browser_session_cookie(client, manager):
    response = admin_login(client, manager)
    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["max-age"] == "" and cookie["expires"] == ""
    assert client.session.get_expire_at_browser_close()
    assert LOGIN_AT in client.session


def test_manufacturer_login_keeps_a_cookie_for_the_day(client, maker_a):
    response = client.post("/portal/login/", {"username": maker_a.username, "password": PASSWORD})
    assert response.status_code == 302
    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert int(cookie["max-age"]) == settings.SESSION_COOKIE_AGE
    assert not client.session.get_expire_at_browser_close()


def test_staff_session_ends_ten_hours_after_login_however_busy(client, manager):
    day = TEST_TODAY
    with travel_to(day, LOGIN, tick=False):
        admin_login(client, manager)
    # Busy all day: at 18:00 the session is saved again, which moves Django's own expiry on.
    with travel_to(day, time(18), tick=False):
        assert client.get("/admin/").status_code == 200
        session = client.session
        session["busy"] = True
        session.save()
    with travel_to(day, time(18, 59, 59), tick=False):
        assert client.get("/admin/").status_code == 200
    with travel_to(day, time(19), tick=False):
        response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
    assert "_auth_user_id" not in client.session


def test_manufacturer_session_ends_ten_hours_after_login(client, maker_a, agreement_a):
    day = TEST_TODAY
    with travel_to(day, LOGIN, tick=False):
        client.post("/portal/login/", {"username": maker_a.username, "password": PASSWORD})
        assert client.get("/portal/").status_code == 200
    with travel_to(day, time(18, 30), tick=False):
        session = client.session
        session["busy"] = True
        session.save()
        assert client.get("/portal/").status_code == 200
    with travel_to(day, time(19), tick=False):
        response = client.get("/portal/")
    assert response.status_code == 302
    assert "/portal/login/" in response["Location"]


def test_a_new_login_starts_a_new_day(client, manager):
    day = TEST_TODAY
    with travel_to(day, LOGIN, tick=False):
        admin_login(client, manager)
    with travel_to(day, time(18), tick=False):
        admin_login(client, manager)  # logged in again, same browser
    with travel_to(day, time(20), tick=False):
        assert client.get("/admin/").status_code == 200


def test_session_without_a_stamp_counts_from_the_last_login(client, manager):
    """A session from before the stamp existed: its day ends 10 h after the user's last login,
    and reading pages writes nothing to stamp it."""
    with travel_to(TEST_TODAY, LOGIN, tick=False):
        admin_login(client, manager)
        session = client.session
        del session[LOGIN_AT]
        session.save()
        assert client.get("/admin/").status_code == 200
        assert LOGIN_AT not in client.session
    with travel_to(TEST_TODAY, time(18, 59, 59), tick=False):
        session = client.session
        session["busy"] = True  # saved: Django's own expiry moves to 04:59:59 tomorrow
        session.save()
        assert client.get("/admin/").status_code == 200
    with travel_to(TEST_TODAY, time(19), tick=False):
        assert client.get("/admin/").status_code == 302
