"""Reads about users: their second factor (docs/security.md, "Second factor for staff")."""

from __future__ import annotations

from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from vault.accounts.models import User

# two_factor's name for the device its login asks for (two_factor.utils.default_device).
DEFAULT_DEVICE_NAME = "default"


def totp_device_get(*, user: User) -> TOTPDevice | None:
    """The user's authenticator app (its confirmed TOTP device), or None: not enrolled."""
    return TOTPDevice.objects.filter(user=user, name=DEFAULT_DEVICE_NAME, confirmed=True).order_by("pk").first()


def backup_codes_left(*, user: User) -> int:
    """How many of the user's backup codes are still unused (each works once)."""
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()
