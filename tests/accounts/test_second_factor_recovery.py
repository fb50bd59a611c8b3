"""Recovery and oversight of the staff's second factor: the services (enrolment, backup codes,
reset, refused codes), their event rows, the admin's narrowed device pages (no secret shown to
anyone, the reset a superuser's delete), the break-glass command and the deploy check."""

from binascii import unhexlify
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.test import Client
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp.util import random_hex

from tests.clock import TEST_TODAY, travel_to
from tests.core.test_settings import _manage
from tests.factories import UserFactory
from tests.second_factor import admin_login_post, code_for, totp_device, verified_session
from vault.accounts.checks import second_factor_check
from vault.accounts.errors import (
    SecondFactorAlreadyEnrolled,
    SecondFactorCodeInvalid,
    SecondFactorNotEnrolled,
    SecondFactorResetRefused,
)
from vault.accounts.models import SecondFactorEvent
from vault.accounts.services import (
    BACKUP_CODE_COUNT,
    backup_codes_regenerate,
    second_factor_enrol,
    second_factor_reset,
    totp_offset,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def frozen():
    with travel_to(TEST_TODAY, tick=False) as traveller:
        yield traveller


@pytest.fixture
def superuser(db):
    return UserFactory(username="root", role="", is_staff=True, is_superuser=True)


def app_code(key: str, steps: int = 0) -> str:
    return f"{totp(unhexlify(key), drift=steps):06d}"


def enrolled(user):
    key = random_hex(20)
    return second_factor_enrol(user=user, key=key, code=app_code(key))


# --- the services ---------------------------------------------------------------------------------


def test_a_code_is_taken_one_step_either_side_of_now(frozen):
    key = random_hex(20)
    assert [totp_offset(key=key, code=app_code(key, n)) for n in (-2, -1, 0, 1, 2)] == [None, -1, 0, 1, None]
    assert totp_offset(key=key, code="not a code") is None


def test_enrolment_needs_the_apps_code_and_writes_nothing_otherwise(manager, frozen):
    key = random_hex(20)
    with pytest.raises(SecondFactorCodeInvalid) as refused:
        second_factor_enrol(user=manager, key=key, code=app_code(key, 2))
    assert refused.value.as_dict()["code"] == "second_factor_code_invalid"
    assert not TOTPDevice.objects.exists() and not StaticDevice.objects.exists()
    assert not SecondFactorEvent.objects.exists()

    enrolment = second_factor_enrol(user=manager, key=key, code=app_code(key, 1), ip="10.0.0.7")
    device = enrolment.device
    assert (device.name, device.confirmed, device.drift, device.digits, device.step) == ("default", True, 1, 6, 30)
    assert not device.verify_token(app_code(key, 1))  # the enrolment's code is spent
    assert len(set(enrolment.backup_codes)) == BACKUP_CODE_COUNT == 10
    assert sorted(StaticToken.objects.filter(device__user=manager).values_list("token", flat=True)) == sorted(
        enrolment.backup_codes
    )
    event = SecondFactorEvent.objects.get()
    assert (event.kind, event.user, event.by, event.ip_address) == ("enrolled", manager, manager, "10.0.0.7")


def test_one_app_per_user_until_a_reset(manager, superuser, frozen):
    enrolled(manager)
    with pytest.raises(SecondFactorAlreadyEnrolled):
        enrolled(manager)
    assert TOTPDevice.objects.filter(user=manager).count() == 1
    second_factor_reset(user=manager, by=superuser)
    enrolled(manager)
    assert TOTPDevice.objects.filter(user=manager).count() == 1


def test_backup_codes_need_an_app_and_replace_the_old_ones(manager, frozen):
    with pytest.raises(SecondFactorNotEnrolled):
        backup_codes_regenerate(user=manager)
    old = enrolled(manager).backup_codes
    new = backup_codes_regenerate(user=manager)
    assert len(new) == 10 and not set(old) & set(new)
    static = StaticDevice.objects.get(user=manager)
    assert not static.verify_token(old[0])
    frozen.shift(1)  # django-otp's throttle after a failure
    assert static.verify_token(new[0])
    assert not static.verify_token(new[0])  # once
    assert [e.kind for e in SecondFactorEvent.objects.order_by("id")] == ["enrolled", "backup_codes"]


def test_only_a_superuser_resets_and_the_reset_takes_everything(manager, finance, superuser, frozen):
    enrolled(manager)
    with pytest.raises(SecondFactorResetRefused) as refused:
        second_factor_reset(user=manager, by=finance)
    assert refused.value.status_code == 403
    assert TOTPDevice.objects.filter(user=manager).exists()

    assert second_factor_reset(user=manager, by=superuser, ip="10.0.0.9") == 2  # the app and the codes' device
    assert not TOTPDevice.objects.filter(user=manager).exists()
    assert not StaticToken.objects.filter(device__user=manager).exists()
    event = SecondFactorEvent.objects.get(kind="reset")
    assert (event.user, event.by, event.ip_address) == (manager, superuser, "10.0.0.9")
    assert second_factor_reset(user=manager, by=superuser) == 0  # nothing left: no second event
    assert SecondFactorEvent.objects.filter(kind="reset").count() == 1


@pytest.mark.postgres
def test_events_are_append_only_in_the_database(manager):
    enrolled(manager)
    event = SecondFactorEvent.objects.get()
    for statement in ("UPDATE accounts_secondfactorevent SET kind = 'reset'", "DELETE FROM accounts_secondfactorevent"):
        with (
            pytest.raises(DatabaseError, match="accounts_secondfactorevent rows are append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(statement)
    event.refresh_from_db()
    assert event.kind == "enrolled"


# --- the reset: a superuser, in the admin ---------------------------------------------------------


def test_a_superusers_delete_in_the_admin_is_the_reset(required_setting, manager, superuser, frozen):
    device = totp_device(manager)
    backup_codes_regenerate(user=manager)
    user_browser = Client()
    verified_session(user_browser, manager, device)
    assert user_browser.get("/admin/").status_code == 200

    root = Client()
    verified_session(root, superuser, totp_device(superuser))
    url = f"/admin/otp_totp/totpdevice/{device.pk}/delete/"
    assert root.get(url).status_code == 200
    assert root.post(url, {"post": "yes"}).status_code == 302
    assert not TOTPDevice.objects.filter(user=manager).exists()
    assert not StaticDevice.objects.filter(user=manager).exists()
    event = SecondFactorEvent.objects.get(kind="reset")
    assert (event.user, event.by, event.ip_address) == (manager, superuser, "127.0.0.1")

    # The session verified by the deleted app is verified no more; the password leads to enrolment.
    assert user_browser.get("/admin/")["Location"].startswith("/admin/login/")
    again = admin_login_post(Client(), manager.username)
    assert again["Location"] == "/admin/two-factor/setup/"


def test_the_bulk_delete_resets_each_user(manager, finance, superuser, frozen):
    devices = [totp_device(manager), totp_device(finance)]
    root = Client()
    root.force_login(superuser)
    body = {"action": "delete_selected", "_selected_action": [d.pk for d in devices], "post": "yes"}
    assert root.post("/admin/otp_totp/totpdevice/", body).status_code == 302
    assert not TOTPDevice.objects.exists()
    assert set(SecondFactorEvent.objects.filter(kind="reset").values_list("user__username", flat=True)) == {
        manager.username,
        finance.username,
    }


@pytest.fixture
def required_setting(settings):
    settings.VAULT_STAFF_OTP_REQUIRED = True


def test_no_staff_role_resets_nor_sees_a_secret(manager, finance, auditor, frozen):
    """Every staff role reads who enrolled (auditors check it); the key, its QR code and the
    backup codes appear on no page, and only a superuser deletes."""
    device = totp_device(finance)
    codes = backup_codes_regenerate(user=finance)
    static = StaticDevice.objects.get(user=finance)
    pages = [
        "/admin/otp_totp/totpdevice/",
        f"/admin/otp_totp/totpdevice/{device.pk}/change/",
        "/admin/otp_static/staticdevice/",
        f"/admin/otp_static/staticdevice/{static.pk}/change/",
        "/admin/accounts/secondfactorevent/",
    ]
    for user in (manager, finance, auditor):
        browser = Client()
        browser.force_login(user)
        for path in pages:
            response = browser.get(path)
            assert response.status_code == 200, (user, path)
            page = response.content.decode()
            assert device.key not in page and device.key.upper() not in page, path
            assert not any(code in page for code in codes), path
        assert browser.get(f"/admin/otp_totp/totpdevice/{device.pk}/delete/").status_code == 403
        assert browser.post(f"/admin/otp_totp/totpdevice/{device.pk}/delete/", {"post": "yes"}).status_code == 403
        assert browser.get("/admin/otp_totp/totpdevice/add/").status_code == 403
    assert TOTPDevice.objects.filter(pk=device.pk).exists()
    # django-otp's QR and configuration pages of a device are not routed.
    browser = Client()
    browser.force_login(manager)
    assert browser.get(f"/admin/otp_totp/totpdevice/{device.pk}/qrcode/").status_code in (302, 404)
    assert browser.get(f"/admin/otp_totp/totpdevice/{device.pk}/config/").status_code in (302, 404)


def test_the_second_factor_page_shows_counts_and_events_never_codes(client, manager, frozen):
    enrolment = enrolled(manager)
    verified_session(client, manager, enrolment.device)
    page = client.get("/admin/two-factor/").content.decode()
    assert '<strong id="backup-codes-left">10</strong>' in page
    assert "Enrolled an authenticator app" in page
    assert not any(code in page for code in enrolment.backup_codes)
    assert 'href="/admin/two-factor/"' in client.get("/admin/").content.decode()  # "Second factor" in the user links


# --- break-glass, and the deploy check ----------------------------------------------------------


def test_the_command_resets_for_a_named_superuser(manager, finance, superuser, frozen):
    enrolled(manager)
    with pytest.raises(CommandError, match="Only a superuser"):
        call_command("second_factor_reset", manager.username, "--by", finance.username)
    with pytest.raises(CommandError, match="No user 'nobody'"):
        call_command("second_factor_reset", "nobody", "--by", superuser.username)
    out = StringIO()
    call_command("second_factor_reset", manager.username, "--by", superuser.username, stdout=out)
    assert "second factor reset" in out.getvalue()
    assert not TOTPDevice.objects.filter(user=manager).exists()
    assert SecondFactorEvent.objects.get(kind="reset").by == superuser
    out = StringIO()
    call_command("second_factor_reset", manager.username, "--by", superuser.username, stdout=out)
    assert "nothing to reset" in out.getvalue()


def test_the_deploy_check_reports_the_setting_off(settings):
    settings.VAULT_STAFF_OTP_REQUIRED = False
    assert [w.id for w in second_factor_check(None)] == ["vault.W001"]
    settings.VAULT_STAFF_OTP_REQUIRED = True
    assert second_factor_check(None) == []


PRODUCTION = {
    "DJANGO_SETTINGS_MODULE": "config.settings.production",
    "DJANGO_SECRET_KEY": "k7Qp2vXz9LmN4bRt8WcY1sDf6GhJ3kUe5AoPi0ZxCvBnM2qWeRtYuIoPaSdFgHjK",
}
READ = "from django.conf import settings; print(settings.VAULT_STAFF_OTP_REQUIRED)"


@pytest.mark.parametrize(
    ("env", "expected"),
    [(PRODUCTION, "True"), ({**PRODUCTION, "VAULT_STAFF_OTP_REQUIRED": "0"}, "False"), ({}, "False")],
    ids=["production", "production-switched-off", "local"],
)
def test_on_in_production_off_in_local(env, expected):
    result = _manage("shell", "-c", READ, **{"DJANGO_SETTINGS_MODULE": "config.settings.local", **env})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == expected


def test_check_deploy_warns_when_production_switches_it_off():
    result = _manage("check", "--deploy", **PRODUCTION, VAULT_STAFF_OTP_REQUIRED="off")
    assert "vault.W001" in result.stderr + result.stdout


def test_a_code_for_a_device_is_what_its_app_shows(manager, frozen):
    device = totp_device(manager)
    assert device.verify_token(code_for(device))


def test_the_demo_banner_says_how_staff_log_in(settings):
    from vault.accounts.management.commands.demo_banner import Command

    settings.VAULT_STAFF_OTP_REQUIRED = False
    line = Command._second_factor_line("http://127.0.0.1:8000")
    assert "optional" in line and "http://127.0.0.1:8000/admin/two-factor/" in line
    settings.VAULT_STAFF_OTP_REQUIRED = True
    assert "a code from an authenticator app" in Command._second_factor_line("http://127.0.0.1:8000")
