from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from simple_history.admin import SimpleHistoryAdmin

from vault.accounts.models import Organization, User


@admin.register(Organization)
class OrganizationAdmin(SimpleHistoryAdmin):
    list_display = ["code", "name", "kind", "created_at"]
    list_filter = ["kind"]
    search_fields = ["code", "name"]


@admin.register(User)
class UserAdmin(BaseUserAdmin, SimpleHistoryAdmin):
    list_display = ["username", "email", "role", "organization", "is_active", "last_login"]
    list_filter = ["role", "is_active", "organization"]
    list_select_related = ["organization"]
    search_fields = ["username", "email", "organization__code"]
    fieldsets = [*BaseUserAdmin.fieldsets, ("Vault", {"fields": ["role", "organization"]})]
