"""API access by role. A view names the roles that may read and write it; a manufacturer's
querysets are further narrowed to its organization by the view (see selectors)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.http import HttpRequest
from rest_framework.exceptions import NotAuthenticated
from rest_framework.permissions import SAFE_METHODS, BasePermission

from vault.accounts.roles import Role

if TYPE_CHECKING:
    from vault.accounts.models import User

STAFF_READERS = (Role.MANAGER, Role.FINANCE, Role.AUDITOR)


class RolePermission(BasePermission):
    """Reads need a role in `view.read_roles`, writes one in `view.write_roles`.
    Defaults: staff roles read, managers write."""

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not (user and user.is_authenticated):
            return False
        if request.method in SAFE_METHODS:
            roles = getattr(view, "read_roles", STAFF_READERS)
        else:
            roles = getattr(view, "write_roles", (Role.MANAGER,))
            action_roles = getattr(view, "action_roles", {})
            roles = action_roles.get(getattr(view, "action", None), roles)
        return user.has_role(*roles)


def is_manufacturer(user) -> bool:
    return getattr(user, "role", None) == Role.MANUFACTURER and not user.is_superuser


# --- the staff's second factor (docs/security.md, "Second factor for staff") ----------------------


def second_factor_required(user) -> bool:
    """Whether `user` must pass a second factor to use the admin: every staff user while
    VAULT_STAFF_OTP_REQUIRED is on (read at each call, so a test can switch it)."""
    return bool(settings.VAULT_STAFF_OTP_REQUIRED and user.is_authenticated and user.is_staff)


def second_factor_passed(user) -> bool:
    """Whether this session's user passed the second factor, or need not. `is_verified` is
    django-otp's (OTPMiddleware): the session holds the device that accepted a code."""
    if not second_factor_required(user):
        return True
    is_verified = getattr(user, "is_verified", None)
    return bool(is_verified and is_verified())


def acting_user(request: HttpRequest) -> User:
    """The user a write acts as (a service's `by`). The permissions let no anonymous request reach
    a write; should one get here, it is a 401, never a write without its author."""
    user = request.user
    if not user.is_authenticated:
        raise NotAuthenticated()
    return user
