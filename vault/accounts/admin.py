from axes import admin as axes_admin
from axes.models import AccessAttempt
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import AdminPasswordChangeForm, AdminUserCreationForm, UsernameField
from django.db.models import Count
from django.urls import reverse
from django.utils import timezone
from django_celery_beat import admin as celery_beat_admin
from django_celery_beat.models import PeriodicTask
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice
from knox.models import AuthToken

from vault.accounts import services
from vault.accounts.models import ApiToken, Organization, SecondFactorEvent, User
from vault.accounts.services import second_factor_reset
from vault.core.admin import HistoryAdmin, ReadOnlyAdminMixin, RevocableAdminMixin, ServiceFormMixin
from vault.core.throttles import client_ip


@admin.register(Organization)
class OrganizationAdmin(ServiceFormMixin, HistoryAdmin):
    """Organizations, added, changed and deleted by superusers through the services."""

    list_display = ["code", "name", "kind", "created_at"]
    list_filter = ["kind"]
    search_fields = ["code", "name"]

    def add_service(self, request, data):
        return services.organization_create(code=data["code"], name=data["name"], kind=data["kind"], by=request.user)

    def change_service(self, request, obj, changes) -> None:
        services.organization_update(organization=obj, changes=changes, by=request.user)

    def delete_service(self, request, obj) -> None:
        services.organization_delete(organization=obj, by=request.user)


class ServicePasswordChangeForm(AdminPasswordChangeForm):
    """The admin's "change password" page, writing through the services (a new password revokes
    the user's API tokens and ends their sessions; see user_password_set)."""

    def save(self, commit: bool = True) -> User:
        if self.cleaned_data.get("set_usable_password", True):
            return services.user_password_set(user=self.user, password=self.cleaned_data["password1"])
        return services.user_password_disable(user=self.user)


class UserAddForm(AdminUserCreationForm):
    """Django's "add user" form for Vault's user model (its username rules and validators)."""

    class Meta:
        model = User
        fields = ("username",)
        field_classes = {"username": UsernameField}


@admin.register(User)
class UserAdmin(ServiceFormMixin, BaseUserAdmin, HistoryAdmin):
    """Users, for superusers: "Add" creates one through `user_create` (the change page then gives
    the role), the change page writes through `user_update` (groups and permissions too), the
    password page through `user_password_set`."""

    list_display = ["username", "email", "role", "organization", "is_active", "last_login"]
    list_filter = ["role", "is_active", "organization"]
    list_select_related = ["organization"]
    search_fields = ["username", "email", "organization__code"]
    fieldsets = [*(BaseUserAdmin.fieldsets or ()), ("Vault", {"fields": ["role", "organization"]})]
    readonly_fields = ["last_login", "date_joined"]
    change_password_form = ServicePasswordChangeForm
    add_form = UserAddForm
    add_title = "Add user"

    def add_service(self, request, data):
        password = data.get("password1") if data.get("set_usable_password", True) else None
        return services.user_create(username=data["username"], password=password, by=request.user)

    def add_done_url(self, result) -> str:
        return reverse("admin:accounts_user_change", args=[result.pk])

    def change_service(self, request, obj, changes) -> None:
        services.user_update(user=obj, changes=changes, by=request.user)

    def save_related(self, request, form, formsets, change) -> None:
        """Groups and permissions through the service too (never the form's save_m2m)."""
        if change:
            services.user_update(
                user=form.instance,
                changes={},
                by=request.user,
                groups=list(form.cleaned_data.get("groups", [])),
                permissions=list(form.cleaned_data.get("user_permissions", [])),
            )

    def delete_service(self, request, obj) -> None:
        services.user_delete(user=obj, by=request.user)


@admin.register(ApiToken)
class ApiTokenAdmin(RevocableAdminMixin, admin.ModelAdmin):
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
    readonly_fields = ["token_key", "user", "created", "expiry", "live"]
    fields = tuple(readonly_fields)

    @admin.display(boolean=True, description="live")
    def live(self, obj: ApiToken) -> bool:
        return obj.expiry is None or obj.expiry >= timezone.now()


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


# --- the staff's second factor (docs/security.md, "Second factor for staff") ----------------------
# django-otp's own admins show a device's secret (the TOTP key and its QR code, the backup codes)
# to whoever may view the model, and every staff role may: these show who enrolled and when,
# never a secret, and nothing is added or edited here. A superuser's delete of an authenticator
# app is the reset (vault.accounts.services.second_factor_reset: the backup codes go too).

SECOND_FACTOR_FIELDS = [
    "user",
    "name",
    "confirmed",
    "created_at",
    "last_used_at",
    "throttling_failure_timestamp",
    "throttling_failure_count",
]

admin.site.unregister(TOTPDevice)


@admin.register(TOTPDevice)
class TOTPDeviceAdmin(RevocableAdminMixin, admin.ModelAdmin):
    """Authenticator apps: who enrolled, when, last used, failed codes in a row. Delete (the
    reset): superusers only; the user sets up a new app at the next login."""

    list_display = ["user", "confirmed", "created_at", "last_used_at", "throttling_failure_count"]
    list_filter = ["confirmed"]
    list_select_related = ["user"]
    search_fields = ["user__username", "user__email"]
    fields = tuple(SECOND_FACTOR_FIELDS)
    readonly_fields = SECOND_FACTOR_FIELDS

    def delete_model(self, request, obj) -> None:
        second_factor_reset(user=obj.user, by=request.user, ip=client_ip(request))

    def delete_queryset(self, request, queryset) -> None:
        for user in User.objects.filter(pk__in=queryset.values("user_id")).order_by("pk"):
            second_factor_reset(user=user, by=request.user, ip=client_ip(request))


admin.site.unregister(StaticDevice)


@admin.register(StaticDevice)
class StaticDeviceAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Backup codes: how many are left, never the codes (no inline). Read-only: the reset of the
    authenticator app deletes them; the user makes new ones on the second-factor page."""

    list_display = ["user", "codes_left", "created_at", "last_used_at", "throttling_failure_count"]
    list_select_related = ["user"]
    search_fields = ["user__username", "user__email"]
    readonly_fields = [*SECOND_FACTOR_FIELDS, "codes_left"]
    fields = tuple(readonly_fields)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(codes_left=Count("token_set"))

    @admin.display(description="unused codes", ordering="codes_left")
    def codes_left(self, obj) -> int:
        return obj.codes_left


@admin.register(SecondFactorEvent)
class SecondFactorEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Enrolments, new backup codes, resets and codes refused at login: staff (auditors first)
    read them; nobody adds, changes or deletes one (append-only in the database too)."""

    list_display = ["at", "user", "kind", "by", "ip_address"]
    list_filter = ["kind"]
    list_select_related = ["user", "by"]
    search_fields = ["user__username", "by__username", "ip_address"]
    date_hierarchy = "at"
    ordering = ["-at", "-id"]
    readonly_fields = ["at", "user", "kind", "by", "ip_address"]
    fields = tuple(readonly_fields)
