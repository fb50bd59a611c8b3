"""API access by role. A view names the roles that may read and write it; a manufacturer's
querysets are further narrowed to its organization by the view (see selectors)."""

from rest_framework.permissions import SAFE_METHODS, BasePermission

from vault.accounts.roles import Role

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
