"""The checks of the four-eyes controls, one way for every app: who may act in a role, and that
the one who approves is not the one who asked. Each raises a 409 with its own code; the
database holds the second with a check constraint on each table that records both users."""

from __future__ import annotations

from vault.accounts.models import User
from vault.core.errors import Conflict


def role_require(user: User, role: str, *, field: str | None = None) -> None:
    """Refuse (409 `role_required`) a user without `role` (a superuser holds every role)."""
    if not user.has_role(role):
        raise Conflict(f"{user} may not do this: it takes the {role} role.", field=field, code="role_required")


def second_user_require(maker_id: int | None, checker: User, *, what: str, field: str | None = None) -> None:
    """Refuse (409 `second_user_required`) when `checker` is the user who made the request."""
    if maker_id is not None and maker_id == checker.pk:
        raise Conflict(
            f"{what} needs a second user: the one who asked cannot approve it.",
            field=field,
            code="second_user_required",
        )
