"""The admin login as the browser posts it (two_factor's wizard: the password step, then the
code step), and the staff's second factor in tests: devices, their codes, verified sessions."""

from __future__ import annotations

from django.conf import settings
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.e2e.helpers import PASSWORD

LOGIN_URL = "/admin/login/"
CURRENT_STEP = "admin_login_view-current_step"  # the wizard's management form (its class's name)


def admin_login_post(client, username: str, password: str = PASSWORD, *, next_url: str | None = None):
    """The password step of the admin login (Django's admin form, prefixed `auth-`)."""
    data = {CURRENT_STEP: "auth", "auth-username": username, "auth-password": password}
    if next_url is not None:
        data["next"] = next_url
    return client.post(LOGIN_URL, data)


def admin_code_post(client, code: str, *, step: str = "token", next_url: str | None = None):
    """The code step: `token` (the authenticator app) or `backup` (a backup code). The page
    carries `next` from the password step in a hidden field."""
    data = {CURRENT_STEP: step, f"{step}-otp_token": code}
    if next_url is not None:
        data["next"] = next_url
    return client.post(LOGIN_URL, data)


def admin_goto_step(client, step: str):
    """The wizard's buttons: "Use a backup code" (`backup`), "Start again" (`auth`)."""
    return client.post(LOGIN_URL, {CURRENT_STEP: "token", "wizard_goto_step": step})


def totp_device(user, **fields) -> TOTPDevice:
    """An enrolled authenticator app, as enrolment leaves it (name `default`, confirmed)."""
    return TOTPDevice.objects.create(user=user, name="default", confirmed=True, **fields)


def code_for(device: TOTPDevice, *, steps: int = 0) -> str:
    """The code `device`'s app shows now (`steps` 30-second steps later), on the clock the server
    reads too (the tests' travelled clock)."""
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift + steps):0{device.digits}d}"


def wrong_code_for(device: TOTPDevice) -> str:
    """A code the device takes at no step it would accept now."""
    valid = {code_for(device, steps=n) for n in range(-device.tolerance - 1, device.tolerance + 2)}
    return next(code for code in (f"{n:06d}" for n in range(1_000_000)) if code not in valid)


def verified_session(client, user, device) -> None:
    """Log `client` in as `user`, the session verified by `device` (as after a code)."""
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    client.cookies[settings.SESSION_COOKIE_NAME] = session.session_key
