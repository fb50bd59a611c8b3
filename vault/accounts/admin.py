from axes import admin as axes_admin
from axes.models import AccessAttempt
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django_celery_beat import admin as celery_beat_admin
from django_celery_beat.models import PeriodicTask
from rest_framework.authtoken import admin as authtoken_admin
from rest_framework.authtoken.models import TokenProxy

from vault.accounts.models import Organization, User
from vault.core.admin import HistoryAdmin


@admin.register(Organization)
class OrganizationAdmin(HistoryAdmin):
    list_display = ["code", "name", "kind", "created_at"]
    list_filter = ["kind"]
    search_fields = ["code", "name"]


@admin.register(User)
class UserAdmin(BaseUserAdmin, HistoryAdmin):
    list_display = ["username", "email", "role", "organization", "is_active", "last_login"]
    list_filter = ["role", "is_active", "organization"]
    list_select_related = ["organization"]
    search_fields = ["username", "email", "organization__code"]
    fieldsets = [*BaseUserAdmin.fieldsets, ("Vault", {"fields": ["role", "organization"]})]


# --- third-party admins, narrowed to the roles ------------------------------------------------------
# Every staff role holds the view permission on every model (roles_sync), so these two would
# otherwise hand out more than a view.

admin.site.unregister(TokenProxy)


@admin.register(TokenProxy)
class TokenAdmin(authtoken_admin.TokenAdmin):
    """API tokens are credentials (the changelist shows every key): superusers only."""

    def has_view_permission(self, request, obj=None) -> bool:
        return request.user.is_superuser

    has_module_permission = has_add_permission = has_change_permission = has_delete_permission = has_view_permission


admin.site.unregister(PeriodicTask)


@admin.register(PeriodicTask)
class PeriodicTaskAdmin(celery_beat_admin.PeriodicTaskAdmin):
    """django-celery-beat's actions (enable, disable, toggle, run now) declare no permission:
    here they need the change permission, as editing a task does."""

    def get_actions(self, request):
        actions = super().get_actions(request)
        if not self.has_change_permission(request):
            for name in self.actions:
                actions.pop(name, None)
        return actions


admin.site.unregister(AccessAttempt)


@admin.register(AccessAttempt)
class AccessAttemptAdmin(axes_admin.AccessAttemptAdmin):
    """django-axes' "Clean up expired attempts" declares no permission: here it needs the
    delete permission, as deleting attempts one by one does."""

    def get_actions(self, request):
        actions = super().get_actions(request)
        if not self.has_delete_permission(request):
            actions.pop("cleanup_expired_attempts", None)
        return actions
