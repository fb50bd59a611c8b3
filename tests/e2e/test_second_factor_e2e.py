"""The staff's second factor in a real browser, VAULT_STAFF_OTP_REQUIRED on: the admin login asks
a manager for the authenticator app's code after the password and refuses a wrong one; a session
without the code reaches no admin page; a staff user without an app enrols (QR code, secret,
code, backup codes) before the dashboard; a backup code logs in once. With the setting off a
password is enough (the demo). Every page runs without a Content-Security-Policy violation."""

import re
from base64 import b32decode

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django_otp.oath import totp
from playwright.sync_api import expect

from tests.e2e.conftest import login_admin
from tests.e2e.helpers import PASSWORD, login_portal
from tests.e2e.test_csp_e2e import violations, watch
from tests.second_factor import code_for, totp_device, wrong_code_for
from vault.accounts.models import SecondFactorEvent

pytestmark = pytest.mark.django_db(transaction=True)

CODE_LABEL = "Code from your authenticator app"


@pytest.fixture
def required(settings):
    settings.VAULT_STAFF_OTP_REQUIRED = True  # the live server runs in this process: it sees it


def password_step(page, username: str, password: str = PASSWORD, path: str = "/admin/login/") -> None:
    page.goto(path)
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def test_the_admin_login_asks_for_the_code(required, new_page, live_server, manager, _business_day):
    device = totp_device(manager)
    page = new_page()
    console = watch(page)
    password_step(page, manager.username)
    expect(page.get_by_label(CODE_LABEL)).to_be_visible()  # the second step, not the dashboard
    assert "/admin/login/" in page.url
    assert violations(page, console) == []

    page.get_by_label(CODE_LABEL).fill(wrong_code_for(device))
    page.get_by_role("button", name="Verify").click()
    expect(page.locator(".errornote, .errorlist").first).to_contain_text("Invalid code")
    assert "/admin/login/" in page.url
    assert SecondFactorEvent.objects.filter(user=manager, kind="code_refused").count() == 1

    _business_day.shift(2)  # django-otp's throttle holds the device for a second after a failure
    page.get_by_label(CODE_LABEL).fill(code_for(device))  # what the app shows now, on the server's clock
    page.get_by_role("button", name="Verify").click()
    page.wait_for_url("**/admin/")
    expect(page.get_by_role("heading", name="Operations dashboard")).to_be_visible()
    page.goto("/admin/two-factor/")  # the user's own page, linked from the user tools
    expect(page.locator("#backup-codes-left")).to_have_text("0")
    assert violations(page, console) == []


def test_without_the_code_no_admin_page_opens(required, new_page, live_server, manager):
    totp_device(manager)
    # Half-way through the wizard (the password given, no code): not logged in at all.
    page = new_page()
    password_step(page, manager.username)
    expect(page.get_by_label(CODE_LABEL)).to_be_visible()
    page.goto("/admin/")
    page.wait_for_url("**/admin/login/?next=/admin/")
    expect(page.get_by_label("Username")).to_be_visible()

    # A session Django counts as logged in, by the password alone (no device in it).
    session = Client()
    session.force_login(manager)
    other = new_page()
    other.context.add_cookies(
        [
            {
                "name": django_settings.SESSION_COOKIE_NAME,
                "value": session.cookies[django_settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )
    for path in ("/admin/", "/admin/inventory/lot/", "/admin/two-factor/"):
        other.goto(path)
        other.wait_for_url(re.compile(r"/admin/login/\?next="))
        expect(other.locator(".errornote")).to_contain_text("has not passed the second factor")


def test_a_staff_user_without_an_app_enrols_first(required, new_page, live_server, finance, _business_day):
    page = new_page()
    console = watch(page)
    password_step(page, finance.username, path="/admin/login/?next=/admin/ledger/journalentry/")
    page.wait_for_url("**/admin/two-factor/setup/")
    qr = page.locator("#otp-qr")
    expect(qr).to_be_visible()
    assert page.evaluate("() => document.getElementById('otp-qr').naturalWidth") > 0  # the SVG loaded
    secret = page.locator("#otp-secret").inner_text().replace(" ", "")
    assert violations(page, console) == []

    page.goto("/admin/")  # nothing before the app is confirmed: back to enrolment
    page.wait_for_url("**/admin/two-factor/setup/")
    secret = page.locator("#otp-secret").inner_text().replace(" ", "")  # a visit, a new secret (as two_factor does)

    page.get_by_label(CODE_LABEL).fill(f"{totp(b32decode(secret)):06d}")  # typed from the phone
    page.get_by_role("button", name="Confirm").click()
    codes = page.locator("#backup-codes li")
    expect(codes).to_have_count(10)
    backup = codes.nth(0).inner_text()
    assert violations(page, console) == []
    page.get_by_role("link", name="I have kept them: continue").click()
    page.wait_for_url("**/admin/")  # where the user last tried to go
    expect(page.get_by_role("heading", name="Operations dashboard")).to_be_visible()
    page.goto("/admin/two-factor/backup-codes/")
    expect(page.get_by_text("You have 10 unused backup codes")).to_be_visible()
    assert violations(page, console) == []

    # A backup code logs in once, in place of the app's code.
    page.get_by_role("button", name="Log out").click()
    _business_day.shift(31)  # the next 30-second step
    password_step(page, finance.username)
    page.get_by_role("button", name="Use a backup code").click()
    page.get_by_label("Backup code").fill(backup)
    page.get_by_role("button", name="Verify").click()
    page.wait_for_url("**/admin/")
    assert violations(page, console) == []
    page.get_by_role("button", name="Log out").click()

    password_step(page, finance.username)
    page.get_by_role("button", name="Use a backup code").click()
    page.get_by_label("Backup code").fill(backup)
    page.get_by_role("button", name="Verify").click()
    expect(page.locator(".errornote, .errorlist").first).to_contain_text("Invalid code")
    assert "/admin/login/" in page.url
    assert violations(page, console) == []


def test_with_the_setting_off_the_password_is_enough(new_page, live_server, manager):
    """The demo (`make run`): VAULT_STAFF_OTP_REQUIRED off, no app, the password alone."""
    page = new_page()
    login_admin(page, manager.username)
    expect(page.get_by_role("heading", name="Operations dashboard")).to_be_visible()


def test_the_portal_login_is_unchanged(required, new_page, live_server, maker_a, agreement_a):
    page = new_page()
    login_portal(page, maker_a.username)
    assert page.url.endswith("/portal/")
