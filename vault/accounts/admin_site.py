"""Vault's admin site: Django's, whose login is two_factor's wizard (the password, then a code
when the user has an authenticator, or enrolment when the second factor is required and the
user has none) and whose pages need a session that passed the second factor when it is
required (vault.accounts.permissions.second_factor_required). docs/security.md, "Second factor
for staff"."""

from django.contrib.admin import AdminSite
from django.contrib.admin.apps import AdminConfig
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache
from django_otp.plugins.otp_static.apps import DefaultConfig as OTPStaticConfig
from django_otp.plugins.otp_totp.apps import DefaultConfig as OTPTOTPConfig


class VaultAdminConfig(AdminConfig):
    """django.contrib.admin with VaultAdminSite as `admin.site` (Django's documented way to
    replace the default site; every `@admin.register` goes to it)."""

    default_site = "vault.accounts.admin_site.VaultAdminSite"


class TOTPConfig(OTPTOTPConfig):
    """django-otp's TOTP devices, under a name the admin's readers understand ("Otp_Totp")."""

    verbose_name = "Second factor: authenticator apps"


class StaticConfig(OTPStaticConfig):
    """django-otp's static devices: the backup codes."""

    verbose_name = "Second factor: backup codes"


class VaultAdminSite(AdminSite):
    def get_urls(self):
        return [path("controls/", self.admin_view(self.controls_view), name="controls"), *super().get_urls()]

    def controls_view(self, request):
        """The controls in force (vault.core.controls), for every staff user."""
        from vault.core.controls import controls_in_force

        context = {**self.each_context(request), "title": "Controls in force", "controls": controls_in_force()}
        return TemplateResponse(request, "admin/controls.html", context)

    def has_permission(self, request) -> bool:
        """Django's rule (an active staff user), and the second factor passed when it is
        required. A session that has only passed the password (on its way to enrolment) may
        still log out: it is sent to the login page from every other page."""
        from vault.accounts.permissions import second_factor_passed

        if not super().has_permission(request):
            return False
        if second_factor_passed(request.user):
            return True
        return request.path == reverse("admin:logout", current_app=self.name)

    @method_decorator(never_cache)
    def login(self, request, extra_context=None):
        """The admin's login page, as Django's (its template, the next page, the password reset
        link) but two_factor's wizard: vault.accounts.views.AdminLoginView."""
        from vault.accounts.permissions import second_factor_required
        from vault.accounts.views import AdminLoginView, needs_enrolment

        if request.method == "GET":
            if self.has_permission(request):
                return HttpResponseRedirect(reverse("admin:index", current_app=self.name))
            user = request.user
            if user.is_active and second_factor_required(user) and needs_enrolment(user):
                return AdminLoginView.to_enrolment(request, request.GET.get(REDIRECT_FIELD_NAME, ""))
        context = {
            **self.each_context(request),
            "title": "Log in",
            "subtitle": None,
            "app_path": request.get_full_path(),
            "username": request.user.get_username(),
        }
        if REDIRECT_FIELD_NAME not in request.GET and REDIRECT_FIELD_NAME not in request.POST:
            context[REDIRECT_FIELD_NAME] = reverse("admin:index", current_app=self.name)
        context.update(extra_context or {})
        request.current_app = self.name
        return AdminLoginView.as_view(extra_context=context)(request)
