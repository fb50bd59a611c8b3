from axes import admin as axes_admin
from axes.models import AccessAttempt
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils import timezone
from django_celery_beat import admin as celery_beat_admin
from django_celery_beat.models import PeriodicTask
from knox.models import AuthToken

from vault.accounts.models import ApiToken, Organization, User
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


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """API tokens, for review and revocation. No key is stored (knox keeps its SHA-512 digest),
    and the digest is not shown either: a token is named by its key's first characters.
    Read-only: tokens are issued by the token endpoint only. Every staff role views the list (the
    view permission of roles_sync): who holds live API credentials, and until when, belongs to an
    access review, and the list holds nothing that authenticates. Only superusers delete, which
    revokes: the next request with the key is a 401."""

    list_display = ["__str__", "user", "created", "expiry", "live"]
    list_select_related = ["user"]
    list_filter = ["expiry"]
    search_fields = ["token_key", "user__username"]
    fields = readonly_fields = ["token_key", "user", "created", "expiry", "live"]

    @admin.display(boolean=True, description="live")
    def live(self, obj: ApiToken) -> bool:
        return obj.expiry is None or obj.expiry >= timezone.now()

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return request.user.is_superuser


# --- third-party admins, narrowed to the roles ------------------------------------------------------
# Every staff role holds the view permission on every model (roles_sync), so these would
# otherwise hand out more than a view. knox's own token admin shows digests and adds tokens:
# ApiTokenAdmin above replaces it.

admin.site.unregister(AuthToken)


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
