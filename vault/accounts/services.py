from django.contrib.auth.models import Group, Permission
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from rest_framework.authtoken.models import Token

from vault.accounts.errors import PasswordTooWeak
from vault.accounts.models import Organization, User
from vault.accounts.roles import ROLE_CHANGE_APPS, STAFF_ROLES, Role
from vault.core.errors import InvalidInput


def roles_sync() -> None:
    """Every role has a group holding exactly its permissions: view on everything for staff
    roles, add/change/delete on the apps the role owns. Safe to run any number of times."""
    all_permissions = Permission.objects.select_related("content_type")
    view_ids = [p.id for p in all_permissions if p.codename.startswith("view_")]
    for role in Role:
        group, _ = Group.objects.get_or_create(name=role.value)
        if role not in STAFF_ROLES:
            group.permissions.clear()
            continue
        apps = ROLE_CHANGE_APPS[role]
        change_ids = [p.id for p in all_permissions if p.content_type.app_label in apps]
        group.permissions.set(set(view_ids) | set(change_ids))


def password_validate(*, password: str, user: User | None = None) -> None:
    """Raise PasswordTooWeak (code `password_too_weak`, field `password`, every validator's
    message) unless `password` passes AUTH_PASSWORD_VALIDATORS for `user` (saved or not)."""
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise PasswordTooWeak(messages=list(exc.messages)) from exc


def _password_set(*, user: User, password: str) -> None:
    """Validate and set (unsaved) the password; a saved user's API tokens are revoked. Its
    sessions end by themselves: each holds a hash of the old password (get_session_auth_hash)."""
    password_validate(password=password, user=user)
    user.set_password(password)
    if user.pk:
        Token.objects.filter(user=user).delete()


@transaction.atomic
def user_password_set(*, user: User, password: str) -> User:
    """Give `user` a new password that passes the validators (else PasswordTooWeak, nothing
    written). Every API token of the user is deleted and every session of the user stops
    authenticating: a reset or a change locks out whoever held the old credentials."""
    _password_set(user=user, password=password)
    user.save(update_fields=["password"])
    return user


@transaction.atomic
def user_upsert(
    *,
    username: str,
    role: str,
    org_code: str | None = None,
    password: str | None = None,
    email: str = "",
) -> User:
    """Create or update a user with exactly one role (and its group). A manufacturer must
    belong to an organization; an unknown org code creates the organization. A password must
    pass the validators (PasswordTooWeak, nothing written); setting one revokes the user's
    API tokens (see user_password_set)."""
    if role not in Role.values:
        raise InvalidInput(
            f"Unknown role {role!r}; choose one of {', '.join(Role.values)}.", field="role", code="role_unknown"
        )
    if role == Role.MANUFACTURER and not org_code:
        raise InvalidInput(
            "A manufacturer must belong to an organization.", field="org", code="manufacturer_needs_organization"
        )
    user = User.objects.filter(username=username).first() or User(username=username)
    if email:
        user.email = email
    if password:
        _password_set(user=user, password=password)  # before any write: a weak password changes nothing
    elif not user.password:  # a new user without a password: none can log in with it
        user.set_unusable_password()
    organization = None
    if org_code:
        organization, _ = Organization.objects.get_or_create(
            code=org_code,
            defaults={
                "name": org_code,
                "kind": Organization.Kind.MANUFACTURER if role == Role.MANUFACTURER else Organization.Kind.OPERATOR,
            },
        )
    user.role = role
    user.organization = organization
    user.is_staff = role in STAFF_ROLES
    user.save()
    user.groups.set([Group.objects.get(name=role)])
    return user
