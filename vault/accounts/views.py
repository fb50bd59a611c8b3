"""The password reset views both areas share: the link's page sets the password through the
service (validators, API tokens revoked), and a link to an inactive user is no link at all."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.http import HttpResponseRedirect

from vault.accounts.forms import StaffPasswordResetForm
from vault.accounts.services import user_password_set
from vault.core.errors import DomainError


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """Django's view (a one-time, expiring link: default_token_generator and
    PASSWORD_RESET_TIMEOUT; the validators run in SetPasswordForm) whose success calls
    user_password_set instead of form.save()."""

    def get_user(self, uidb64):
        user = super().get_user(uidb64)
        return user if user is not None and user.is_active else None

    def form_valid(self, form):
        try:
            user_password_set(user=form.user, password=form.cleaned_data["new_password1"])
        except DomainError as exc:
            form.add_error("new_password2", exc.message)
            return self.form_invalid(form)
        del self.request.session[auth_views.INTERNAL_RESET_SESSION_TOKEN]
        return HttpResponseRedirect(self.get_success_url())


class AdminSiteContextMixin:
    """The admin's header and title on the reset pages (Django's admin-styled templates)."""

    def get_context_data(self, **kwargs):
        return {**admin.site.each_context(self.request), **super().get_context_data(**kwargs)}


class AdminPasswordResetView(AdminSiteContextMixin, auth_views.PasswordResetView):
    form_class = StaffPasswordResetForm


class AdminPasswordResetDoneView(AdminSiteContextMixin, auth_views.PasswordResetDoneView):
    pass


class AdminPasswordResetConfirmView(AdminSiteContextMixin, PasswordResetConfirmView):
    pass


class AdminPasswordResetCompleteView(AdminSiteContextMixin, auth_views.PasswordResetCompleteView):
    pass
