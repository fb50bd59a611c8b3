"""The staff's second factor at the admin login (two_factor's wizard): the password, then a code
from the authenticator app or one backup code; enrolment of a staff user without an app before
any admin page; the API's session held to the same rule; VAULT_STAFF_OTP_REQUIRED off (the demo);
manufacturers and the token endpoint untouched. docs/security.md, "Second factor for staff"."""

import re
import time
from base64 import b32decode
from binascii import hexlify

import pytest
from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.contrib.sessions.models import Session
from django.test import Client
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

from tests.clock import TEST_TODAY, travel_to
from tests.e2e.helpers import PASSWORD
from tests.second_factor import (
    admin_code_post,
    admin_goto_step,
    admin_login_post,
    code_for,
    totp_device,
    verified_session,
    wrong_code_for,
)
from vault.accounts.models import SecondFactorEvent
from vault.accounts.services import backup_codes_regenerate
from vault.core.sessions import LOGIN_AT

pytestmark = pytest.mark.django_db

# Every admin page an unverified staff session might try; each one sends it to the login page.
ADMIN_PAGES = [
    "/admin/",
    "/admin/inventory/lot/",
    "/admin/accounts/user/",
    "/admin/password_change/",
    "/admin/ledger/journalentry/export.csv",
    "/admin/otp_totp/totpdevice/",
    "/admin/two-factor/",
    "/admin/two-factor/backup-codes/",
]


@pytest.fixture
def required(settings):
    settings.VAULT_STAFF_OTP_REQUIRED = True


@pytest.fixture
def frozen():
    """The clock stopped at 10:00 (codes and django-otp's throttle to the second); .shift(s)."""
    with travel_to(TEST_TODAY, tick=False) as traveller:
        yield traveller


@pytest.fixture
def logins():
    """The users Django's login() logged in, in order (the user_logged_in signal)."""
    seen = []

    def record(sender, user, **kwargs):
        seen.append(user.username)

    user_logged_in.connect(record, dispatch_uid="test-logins")
    yield seen
    user_logged_in.disconnect(dispatch_uid="test-logins")


def logged_in(client) -> bool:
    return "_auth_user_id" in client.session


def to_login(response) -> bool:
    return response.status_code == 302 and response["Location"].startswith("/admin/login/")


def secret_of(page) -> str:
    """The secret key as the enrolment page prints it for typing into an app (groups of four)."""
    return re.search(r'id="otp-secret">([A-Z2-7 ]+)<', page.content.decode()).group(1).replace(" ", "")


def code_of(secret: str, steps: int = 0) -> str:
    """What an authenticator app holding `secret` shows now (or `steps` steps later)."""
    return f"{totp(b32decode(secret), drift=steps):06d}"


# --- with a device: the code after the password ----------------------------------------------------


def test_the_password_alone_does_not_log_in_a_user_with_an_app(required, client, manager, frozen, logins):
    device = totp_device(manager)
    asked = admin_login_post(client, manager.username, next_url="/admin/inventory/lot/")
    assert asked.status_code == 200
    assert 'name="token-otp_token"' in asked.content.decode()
    assert '<input type="hidden" name="next" value="/admin/inventory/lot/">' in asked.content.decode()
    assert "Code from your authenticator app" in asked.content.decode()
    assert not logged_in(client) and logins == []
    assert to_login(client.get("/admin/"))  # the wizard's half-way session opens nothing

    refused = admin_code_post(client, wrong_code_for(device))
    assert refused.status_code == 200 and not logged_in(client)
    assert "Invalid code" in refused.content.decode()
    event = SecondFactorEvent.objects.get()
    assert (event.user, event.by, event.kind, event.ip_address) == (manager, manager, "code_refused", "127.0.0.1")

    frozen.shift(2)  # django-otp's throttle: one failure locks the device for a second
    done = admin_code_post(client, code_for(device), next_url="/admin/inventory/lot/")
    assert (done.status_code, done["Location"]) == (302, "/admin/inventory/lot/")
    assert client.get("/admin/").status_code == 200
    assert logins == [manager.username]  # Django's login() once, at the end: one session stamp
    assert client.session[LOGIN_AT] == time.time()  # stamped when the code was taken (the clock stopped)
    assert client.session.get_expire_at_browser_close()  # the staff cookie of vault.core.sessions
    device.refresh_from_db()
    assert device.last_used_at is not None


def test_a_code_right_after_a_wrong_one_is_throttled(required, client, manager, frozen):
    """Guessing six digits: each failure doubles the wait (1 s, 2 s, 4 s...), whatever the code;
    a code refused by the throttle is not checked, and not recorded as refused."""
    device = totp_device(manager)
    admin_login_post(client, manager.username)
    admin_code_post(client, wrong_code_for(device))
    throttled = admin_code_post(client, code_for(device))
    assert throttled.status_code == 200 and not logged_in(client)
    assert "Verification temporarily disabled because of 1 failed attempt" in throttled.content.decode()
    assert SecondFactorEvent.objects.filter(kind="code_refused").count() == 1
    frozen.shift(1)
    assert admin_code_post(client, code_for(device)).status_code == 302


def test_a_code_logs_in_once(required, manager, frozen):
    """A code seen over a shoulder is spent: the next login in the same 30 s needs the next code."""
    device = totp_device(manager)
    code = code_for(device)
    first = Client()
    admin_login_post(first, manager.username)
    assert admin_code_post(first, code).status_code == 302
    frozen.shift(2)
    second = Client()
    admin_login_post(second, manager.username)
    assert admin_code_post(second, code).status_code == 200 and not logged_in(second)
    frozen.shift(2)
    assert admin_code_post(second, code_for(device, steps=1)).status_code == 302


def test_a_code_must_come_soon_after_the_password(required, client, manager, frozen):
    """Ten minutes (TWO_FACTOR_LOGIN_TIMEOUT) after the password, the password is asked again."""
    device = totp_device(manager)
    admin_login_post(client, manager.username)
    frozen.shift(601)
    late = admin_code_post(client, code_for(device))
    assert late.status_code == 200 and not logged_in(client)
    assert 'name="auth-username"' in late.content.decode()


def test_showing_the_login_page_stores_nothing(required, client, manager):
    """As Django's own login page: a visit writes no session row and sets no cookie (but the
    CSRF one); the wizard's state enters the session with the password."""
    assert client.get("/admin/login/").status_code == 200
    assert client.get("/admin/login/?next=/admin/inventory/lot/").status_code == 200
    assert not Session.objects.exists()
    assert settings.SESSION_COOKIE_NAME not in client.cookies
    totp_device(manager)
    admin_login_post(client, manager.username)
    assert Session.objects.count() == 1 and not logged_in(client)


def test_the_password_step_is_djangos_admin_form(required, client, maker_a, manager):
    """Staff only, the password reset link, and the same error whoever the user."""
    page = client.get("/admin/login/").content.decode()
    assert 'href="/admin/password_reset/"' in page
    assert 'name="auth-username"' in page and 'name="auth-password"' in page
    for username, password in ((maker_a.username, PASSWORD), (manager.username, "wrong-password")):
        refused = admin_login_post(client, username, password)
        assert refused.status_code == 200 and not logged_in(client)
        assert "Please enter the correct username and password for a staff account" in refused.content.decode()


# --- backup codes -------------------------------------------------------------------------------


def test_a_backup_code_logs_in_once(required, manager, frozen):
    totp_device(manager)
    codes = backup_codes_regenerate(user=manager)
    browser = Client()
    admin_login_post(browser, manager.username)
    offered = admin_goto_step(browser, "backup")
    assert 'name="backup-otp_token"' in offered.content.decode()
    assert (admin_code_post(browser, codes[3], step="backup").status_code, logged_in(browser)) == (302, True)
    assert browser.get("/admin/").status_code == 200
    assert StaticToken.objects.filter(device__user=manager).count() == 9

    again = Client()
    admin_login_post(again, manager.username)
    admin_goto_step(again, "backup")
    refused = admin_code_post(again, codes[3], step="backup")
    assert refused.status_code == 200 and not logged_in(again)
    assert "Invalid code" in refused.content.decode()
    frozen.shift(2)
    assert admin_code_post(again, codes[4], step="backup").status_code == 302


def test_new_backup_codes_are_shown_once_and_end_the_old_ones(required, client, manager):
    device = totp_device(manager)
    old = backup_codes_regenerate(user=manager)
    verified_session(client, manager, device)
    page = client.get("/admin/two-factor/backup-codes/").content.decode()
    assert "You have 10 unused backup codes" in page
    assert not any(code in page for code in old)  # the count, never the codes

    made = client.post("/admin/two-factor/backup-codes/")
    assert made.status_code == 200 and "no-store" in made["Cache-Control"]
    new = re.findall(r"<li><code>([a-z2-7]+)</code></li>", made.content.decode())
    assert len(new) == 10 and not set(new) & set(old)
    assert set(StaticToken.objects.filter(device__user=manager).values_list("token", flat=True)) == set(new)
    assert SecondFactorEvent.objects.filter(user=manager, kind="backup_codes").count() == 2
    assert not any(code in client.get("/admin/two-factor/").content.decode() for code in new)


def test_backup_codes_need_a_session_verified_by_the_app(client, manager):
    """A session that did not pass the second factor (here: the setting off, a password login
    from before the app was set up) sees the second-factor page, never new codes."""
    totp_device(manager)
    client.force_login(manager)
    response = client.post("/admin/two-factor/backup-codes/")
    assert (response.status_code, response["Location"]) == (302, "/admin/two-factor/")
    assert not StaticToken.objects.exists()


# --- enrolment ------------------------------------------------------------------------------------


def test_a_staff_user_without_an_app_enrols_before_any_admin_page(required, client, finance, logins, frozen):
    sent = admin_login_post(client, finance.username, next_url="/admin/ledger/journalentry/")
    assert (sent.status_code, sent["Location"]) == (302, "/admin/two-factor/setup/")
    assert logins == [finance.username]  # logged in once, by the password, to enrol

    for path in ADMIN_PAGES:  # nothing before the app is confirmed
        assert to_login(client.get(path)), path
    assert client.get("/admin/login/")["Location"] == "/admin/two-factor/setup/"
    assert client.get("/api/v1/ledger/accounts/").status_code in (401, 403)  # nor the API

    page = client.get("/admin/two-factor/setup/")
    assert page.status_code == 200
    secret = secret_of(page)
    assert len(secret) == 32  # 20 random bytes
    qr = client.get("/admin/two-factor/qrcode/")
    assert qr.status_code == 200 and qr["Content-Type"].startswith("image/svg+xml")
    assert b"<svg" in qr.content

    wrong = client.post("/admin/two-factor/setup/", {"enrol_view-current_step": "generator", "generator-token": "12"})
    assert wrong.status_code == 200 and not TOTPDevice.objects.exists()
    enrolled = client.post(
        "/admin/two-factor/setup/", {"enrol_view-current_step": "generator", "generator-token": code_of(secret)}
    )
    assert enrolled.status_code == 200
    codes = re.findall(r"<li><code>([a-z2-7]+)</code></li>", enrolled.content.decode())
    assert len(codes) == 10 and 'href="/admin/ledger/journalentry/"' in enrolled.content.decode()

    device = TOTPDevice.objects.get(user=finance)
    assert (device.name, device.confirmed, device.key) == ("default", True, hexlify(b32decode(secret)).decode())
    assert SecondFactorEvent.objects.get(user=finance).kind == "enrolled"
    assert client.get("/admin/ledger/journalentry/").status_code == 200  # the session passed the second factor
    assert client.get("/api/v1/ledger/accounts/").status_code == 200
    assert client.get("/admin/two-factor/qrcode/").status_code == 404  # the secret left the session
    assert client.get("/admin/two-factor/setup/")["Location"] == "/admin/two-factor/"  # one app a user
    assert logins == [finance.username]

    # The next login asks for the app's next code (the one that confirmed it is spent).
    again = Client()
    admin_login_post(again, finance.username)
    assert admin_code_post(again, code_of(secret)).status_code == 200
    frozen.shift(2)  # past the throttle of that failure
    assert admin_code_post(again, code_of(secret, steps=1)).status_code == 302


def test_an_enrolling_session_may_log_out(required, client, auditor):
    admin_login_post(client, auditor.username)
    assert client.post("/admin/logout/").status_code == 200
    assert not logged_in(client)


def test_enrolment_is_for_staff(required, client, maker_a):
    client.force_login(maker_a)
    for path in ("/admin/two-factor/setup/", "/admin/two-factor/qrcode/"):
        assert to_login(client.get(path)), path
    assert not TOTPDevice.objects.exists()


# --- the setting off (local, the demo, the tests' default) -------------------------------------------


def test_setting_off_staff_without_an_app_log_in_with_the_password(client, manager, logins):
    response = admin_login_post(client, manager.username)
    assert (response.status_code, response["Location"]) == (302, "/admin/")
    assert client.get("/admin/").status_code == 200 and logins == [manager.username]
    profile = client.get("/admin/two-factor/").content.decode()
    assert "A second factor is optional here" in profile and 'href="/admin/two-factor/setup/"' in profile


def test_setting_off_an_app_once_set_up_is_asked_for(client, manager, frozen):
    device = totp_device(manager)
    asked = admin_login_post(client, manager.username)
    assert asked.status_code == 200 and not logged_in(client)
    assert admin_code_post(client, code_for(device)).status_code == 302


# --- what the second factor does not cover ----------------------------------------------------------


def test_the_portal_login_takes_a_password_only(required, client, maker_a, agreement_a):
    response = client.post("/portal/login/", {"username": maker_a.username, "password": PASSWORD})
    assert (response.status_code, response["Location"]) == (302, "/portal/")
    assert client.get("/portal/").status_code == 200


def test_the_token_endpoint_takes_a_password_only(required, manager):
    totp_device(manager)
    response = APIClient().post("/api/v1/auth/token/", {"username": manager.username, "password": PASSWORD})
    assert response.status_code == 200 and "token" in response.json()
