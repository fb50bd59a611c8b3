"""Password reset request forms: each area (the admin, the portal) mails only its own users.
Whatever the address, the form is valid and the page that follows is the same."""

from __future__ import annotations

from django.contrib.auth.forms import PasswordResetForm

from vault.accounts.roles import Role


class StaffPasswordResetForm(PasswordResetForm):
    """The admin's: active staff with a usable password (Django's rules) get a link."""

    def get_users(self, email):
        return (user for user in super().get_users(email) if user.is_staff)


class ParticipantPasswordResetForm(PasswordResetForm):
    """The portal's: active manufacturers' users with a usable password get a link."""

    def get_users(self, email):
        return (user for user in super().get_users(email) if user.role == Role.MANUFACTURER)
