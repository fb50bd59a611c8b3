"""The password reset views both areas share: requests are rate limited, the link's page sets the
password through the service (validators, API tokens revoked), and a link to an inactive user is
no link at all."""

from __future__ import annotations

import logging

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.http import HttpResponseRedirect

from vault.accounts.forms import StaffPasswordResetForm
from vault.accounts.services import user_password_set
from vault.core.errors import DomainError
from vault.core.throttles import KeyRateThrottle, client_ip

log = logging.getLogger(__name__)


class ThrottledPasswordResetView(auth_views.PasswordResetView):
    """Django's reset request page, rate limited (DEFAULT_THROTTLE_RATES, counted in the shared
    cache, per process while it is down). Over `password_reset` requests from one client address,
    the form answers 429 with the error on `email` and sends nothing. Over `password_reset_email`
    requests for one address, the answer is the usual "sent" page but no mail goes out: the page
    never tells whether an address is known, and an address cannot be flooded with mail."""

    def post(self, request, *args, **kwargs):
        if not KeyRateThrottle("password_reset", client_ip(request) or "").allowed():
            form = self.get_form()
            form.is_valid()
            form.add_error("email", "Too many password reset requests from your address; try again later.")
            log.warning("Password reset requests over the rate from one address")
            return self.render_to_response(self.get_context_data(form=form), status=429)
        return super().post(request, *args, **kwargs)

    def form_valid(self, form):
        email = form.cleaned_data["email"].strip().lower()
        if not KeyRateThrottle("password_reset_email", email).allowed():
            log.warning("Password reset requests over the rate for one e-mail address: no mail sent")
            return HttpResponseRedirect(self.get_success_url())
        return super().form_valid(form)


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


class AdminPasswordResetView(AdminSiteContextMixin, ThrottledPasswordResetView):
    form_class = StaffPasswordResetForm


class AdminPasswordResetDoneView(AdminSiteContextMixin, auth_views.PasswordResetDoneView):
    pass


class AdminPasswordResetConfirmView(AdminSiteContextMixin, PasswordResetConfirmView):
    pass


class AdminPasswordResetCompleteView(AdminSiteContextMixin, auth_views.PasswordResetCompleteView):
    pass
