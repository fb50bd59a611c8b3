from django.contrib.auth.models import Group, Permission
from django.db import transaction

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
    belong to an organization; an unknown org code creates the organization."""
    if role not in Role.values:
        raise InvalidInput(f"Unknown role {role!r}; choose one of {', '.join(Role.values)}.", field="role")
    organization = None
    if org_code:
        organization, _ = Organization.objects.get_or_create(
            code=org_code,
            defaults={
                "name": org_code,
                "kind": Organization.Kind.MANUFACTURER if role == Role.MANUFACTURER else Organization.Kind.OPERATOR,
            },
        )
    elif role == Role.MANUFACTURER:
        raise InvalidInput("A manufacturer must belong to an organization.", field="org")
    user, _ = User.objects.get_or_create(username=username)
    user.role = role
    user.organization = organization
    user.is_staff = role in STAFF_ROLES
    if email:
        user.email = email
    if password:
        user.set_password(password)
    elif not user.password:  # a new user without a password: none can log in with it
        user.set_unusable_password()
    user.save()
    user.groups.set([Group.objects.get(name=role)])
    return user
