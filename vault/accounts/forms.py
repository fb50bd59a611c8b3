"""Password reset request forms: each area (the admin, the portal) mails only its own users.
Whatever the address, the form is valid and the page that follows is the same. And the forms of
the admin login's code steps and of enrolment (the staff's second factor)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib.auth.forms import PasswordResetForm
from django.core.exceptions import ValidationError
from two_factor.forms import AuthenticationTokenForm, BackupTokenForm

from vault.accounts.errors import SecondFactorCodeInvalid
from vault.accounts.roles import Role
from vault.accounts.services import second_factor_code_refused, totp_offset
from vault.core.throttles import client_ip


class StaffPasswordResetForm(PasswordResetForm):
    """The admin's: active staff with a usable password (Django's rules) get a link."""

    def get_users(self, email):
        return (user for user in super().get_users(email) if user.is_staff)


class ParticipantPasswordResetForm(PasswordResetForm):
    """The portal's: active manufacturers' users with a usable password get a link."""

    def get_users(self, email):
        return (user for user in super().get_users(email) if user.role == Role.MANUFACTURER)


# --- the staff's second factor: the admin login's code steps and the enrolment's confirmation -------

CODE_WIDGET = {"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True, "pattern": "[0-9]*"}


if TYPE_CHECKING:  # what the mixin is mixed into, for the type checker (two_factor is untyped)
    _TokenForm = forms.Form
else:
    _TokenForm = object


class RecordRefusedCodeMixin(_TokenForm):
    """A wrong code after the right password leaves a SecondFactorEvent (`code_refused`, with
    the client's address). A code refused by django-otp's throttle (too soon after a wrong one)
    was not checked, and leaves none."""

    user: Any  # two_factor's token forms keep the user who gave the password

    otp_error_messages = {
        **AuthenticationTokenForm.otp_error_messages,
        "invalid_token": "Invalid code. Enter the code your app shows now; a backup code works once.",
    }

    def __init__(self, user, initial_device, request=None, **kwargs):
        super().__init__(user, initial_device, **kwargs)
        self.request = request

    def clean(self):
        try:
            return super().clean()
        except ValidationError as exc:
            if self.user and any(error.code == "invalid_token" for error in exc.error_list):
                second_factor_code_refused(user=self.user, ip=client_ip(self.request) if self.request else None)
            raise


class AdminTokenForm(RecordRefusedCodeMixin, AuthenticationTokenForm):
    """The code of the user's authenticator app (django-otp checks it: TOTPDevice.verify_token)."""

    otp_token = forms.RegexField(
        label="Code from your authenticator app",
        regex=r"^[0-9]{6}$",
        min_length=6,
        max_length=6,
        widget=forms.TextInput(attrs=CODE_WIDGET),
    )


class AdminBackupCodeForm(RecordRefusedCodeMixin, BackupTokenForm):
    """One of the user's backup codes (each works once: django-otp's StaticDevice)."""

    otp_token = forms.CharField(
        label="Backup code",
        max_length=16,
        widget=forms.TextInput(attrs={"autocomplete": "off", "autofocus": True}),
    )


class EnrolCodeForm(forms.Form):
    """Enrolment's confirmation: the code the new authenticator app shows for the secret `key`
    (the rule: vault.accounts.services.totp_offset; the service checks it again as it saves)."""

    token = forms.CharField(
        label="Code from your authenticator app",
        min_length=6,
        max_length=6,
        widget=forms.TextInput(attrs=CODE_WIDGET),
    )

    def __init__(self, key: str, user, **kwargs):
        super().__init__(**kwargs)
        self.key = key
        self.user = user

    def clean_token(self) -> str:
        code = self.cleaned_data["token"].strip()
        if totp_offset(key=self.key, code=code) is None:
            error = SecondFactorCodeInvalid()
            raise ValidationError(error.message, code=error.code)
        return code
