"""The password reset views both areas share: requests are rate limited, the link's page sets the
password through the service (validators, API tokens revoked), and a link to an inactive user is
no link at all. And the staff's second factor: the admin login, enrolment, backup codes."""

from __future__ import annotations

import logging
from functools import wraps
from typing import TYPE_CHECKING

import django_otp
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.auth import views as auth_views
from django.contrib.auth.views import redirect_to_login
from django.http import HttpResponseRedirect
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.generic import TemplateView
from formtools.wizard.storage.base import BaseStorage
from two_factor.utils import get_otpauth_url
from two_factor.views import LoginView as TwoFactorLoginView
from two_factor.views import QRGeneratorView
from two_factor.views import SetupView as TwoFactorSetupView
from two_factor.views.utils import LoginStorage as TwoFactorLoginStorage

from vault.accounts.forms import AdminBackupCodeForm, AdminTokenForm, EnrolCodeForm, StaffPasswordResetForm
from vault.accounts.models import User
from vault.accounts.permissions import second_factor_required
from vault.accounts.selectors import backup_codes_left, totp_device_get
from vault.accounts.services import backup_codes_regenerate, second_factor_enrol, user_password_set
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


if TYPE_CHECKING:  # what the mixin is mixed into, for the type checker
    _TemplateView = TemplateView
else:
    _TemplateView = object


class AdminSiteContextMixin(_TemplateView):
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


# --- the staff's second factor (docs/security.md, "Second factor for staff") ----------------------
# The admin login is two_factor's wizard (vault.accounts.admin_site calls AdminLoginView): the
# password, then the code of the user's authenticator app, or one backup code. A staff user without
# an app, when the second factor is required, is logged in by the password only to be sent to
# enrolment, and no admin page opens to that session before the app is confirmed
# (VaultAdminSite.has_permission). Enrolment shows a QR code and the secret as text, takes a code
# to confirm the app, then shows ten backup codes once.

ENROL_NEXT = "vault_enrol_next"  # the session key: where to go once enrolled


def needs_enrolment(user) -> bool:
    return totp_device_get(user=user) is None


def _safe_next(request, url: str) -> str:
    allowed = url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return url if url and allowed else reverse("admin:index")


def staff_required(view):
    """An active staff user, verified or not (enrolment comes before the second factor); anyone
    else is sent to the admin login, as from any admin page."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        user = request.user
        if not (user.is_authenticated and user.is_active and user.is_staff):
            return redirect_to_login(request.get_full_path(), reverse("admin:login"))
        return view(request, *args, **kwargs)

    return wrapped


class LoginStorage(TwoFactorLoginStorage):
    """two_factor's wizard storage, except that a GET without a wizard in the session keeps the
    (empty) state in memory: showing the password step writes no session row and sets no
    cookie, as Django's own login page, so anonymous visits cost the database nothing. From the
    first POST on, the state is in the session as usual."""

    def __init__(self, prefix, request=None, file_storage=None):
        BaseStorage.__init__(self, prefix, request, file_storage)  # not SessionStorage's: it writes
        self._memory = None
        self._in_memory = request.method in ("GET", "HEAD") and self.prefix not in request.session
        if self.prefix not in request.session:
            self.init_data()

    def _get_data(self):
        return self._memory if self._in_memory else super()._get_data()

    def _set_data(self, value):
        if self._in_memory:
            self._memory = value
        else:
            super()._set_data(value)

    data = property(_get_data, _set_data)


class AdminLoginView(TwoFactorLoginView):
    """two_factor's login wizard with Django's admin form at the first step (staff only; axes
    counts its failures: AuthenticationForm calls authenticate(request=...)), then the code step
    when the user has an authenticator app. Django's login() runs once, at the end, so the
    session is stamped once (vault.core.sessions) and its key changes then."""

    template_name = "two_factor/core/login.html"
    storage_name = "vault.accounts.views.LoginStorage"
    form_list = (
        (TwoFactorLoginView.AUTH_STEP, AdminAuthenticationForm),
        (TwoFactorLoginView.TOKEN_STEP, AdminTokenForm),
        (TwoFactorLoginView.BACKUP_STEP, AdminBackupCodeForm),
    )
    code_forms = {TwoFactorLoginView.TOKEN_STEP: AdminTokenForm, TwoFactorLoginView.BACKUP_STEP: AdminBackupCodeForm}

    def get_form_list(self):
        # two_factor picks the code form by device type; Vault has one type, and its own forms.
        form_list = super().get_form_list()
        for step, form_class in self.code_forms.items():
            if step in form_list:
                form_list[step] = form_class
        return form_list

    def get_success_url(self) -> str:
        return self.get_redirect_url() or reverse("admin:index")

    def get_context_data(self, form, **kwargs):
        context = super().get_context_data(form, **kwargs)
        user = self.get_user()
        if user and self.steps.current != self.AUTH_STEP:
            context["backup_codes_left"] = backup_codes_left(user=user)
        request = self.request
        context[REDIRECT_FIELD_NAME] = (
            request.POST.get(REDIRECT_FIELD_NAME)
            or request.GET.get(REDIRECT_FIELD_NAME)
            or context.get(REDIRECT_FIELD_NAME, "")
        )
        return context

    def done(self, form_list, **kwargs):
        response = super().done(form_list, **kwargs)
        user = self.get_user()
        if second_factor_required(user) and needs_enrolment(user):
            return self.to_enrolment(self.request, self.get_success_url())
        return response

    @staticmethod
    def to_enrolment(request, next_url: str):
        """To enrolment, and from there to `next_url` (or to where the user was going already)."""
        if next_url or ENROL_NEXT not in request.session:
            request.session[ENROL_NEXT] = _safe_next(request, next_url)
        return redirect("two_factor:setup")


@method_decorator([never_cache, sensitive_post_parameters(), staff_required], name="dispatch")
class EnrolView(TwoFactorSetupView):
    """Enrolment of an authenticator app: one step (QR code and secret, then a code), for a staff
    user who has none (one who has is sent to the second-factor page). Done: the device and ten
    backup codes (vault.accounts.services.second_factor_enrol), the session verified by the new
    device and given a new key, and the codes shown on this response only."""

    template_name = "two_factor/core/setup.html"
    form_list = (("generator", EnrolCodeForm),)

    def dispatch(self, request, *args, **kwargs):
        if not needs_enrolment(request.user):
            return redirect("two_factor:profile")
        return super().dispatch(request, *args, **kwargs)

    def get_form_list(self):
        # The wizard's own (one step), not SetupView's: no choice of method, only the app.
        return super(TwoFactorSetupView, self).get_form_list()

    def get_context_data(self, form, **kwargs):
        context = super().get_context_data(form, **kwargs)
        issuer = settings.VAULT_OTP_ISSUER
        secret = context["secret_key"]
        context.update(
            admin.site.each_context(self.request),
            title="Set up your authenticator app",
            issuer=issuer,
            otpauth_url=get_otpauth_url(self.request.user.get_username(), secret, issuer),
            secret_groups=" ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
            required=second_factor_required(self.request.user),
        )
        return context

    def done(self, form_list, **kwargs):
        self.request.session.pop(self.session_key_name, None)  # the secret for the QR code
        form = next(form for form in form_list if isinstance(form, EnrolCodeForm))
        try:
            enrolment = second_factor_enrol(
                user=self.request.user, key=form.key, code=form.cleaned_data["token"], ip=client_ip(self.request)
            )
        except DomainError as exc:
            messages.error(self.request, exc.message)
            return redirect("two_factor:profile")
        django_otp.login(self.request, enrolment.device)
        self.request.session.cycle_key()  # a new session key as the session gains the second factor
        next_url = _safe_next(self.request, self.request.session.pop(ENROL_NEXT, ""))
        return backup_codes_page(self.request, enrolment.backup_codes, next_url=next_url, enrolled=True)


@method_decorator([never_cache, staff_required], name="dispatch")
class EnrolQRCodeView(QRGeneratorView):
    """The QR code of the secret being enrolled (SVG; only while the enrolment page holds it)."""

    def get_issuer(self) -> str:
        return settings.VAULT_OTP_ISSUER


def backup_codes_page(request, codes: list[str], *, next_url: str, enrolled: bool = False):
    context = {
        **admin.site.each_context(request),
        "title": "Your backup codes",
        "codes": codes,
        "next_url": next_url,
        "enrolled": enrolled,
    }
    return TemplateResponse(request, "two_factor/core/backup_tokens.html", context)


class SecondFactorView(TemplateView):
    """The user's second factor (admin.site.admin_view: whoever may use the admin): the
    authenticator app and when it was last used, backup codes left, recent events; enrolment
    when there is no app (voluntary while VAULT_STAFF_OTP_REQUIRED is off)."""

    template_name = "two_factor/profile/profile.html"

    def get_context_data(self, **kwargs):
        user = self.request.user
        assert isinstance(user, User)  # second_factor_required: a logged-in staff user
        return {
            **super().get_context_data(**kwargs),
            **admin.site.each_context(self.request),
            "title": "Second factor",
            "device": totp_device_get(user=user),
            "backup_codes_left": backup_codes_left(user=user),
            "required": second_factor_required(user),
            "verified": user.is_verified(),  # type: ignore[attr-defined]  # django-otp's middleware sets it
            "events": user.second_factor_events.select_related("by")[:10],
        }


class BackupCodesView(View):
    """New backup codes (POST), shown once on the response; the old ones stop working. Only for a
    session verified by the second factor; any other is sent to the second-factor page. GET shows
    how many are left, never the codes."""

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_verified():
            messages.info(request, "Sign in with your authenticator app to renew your backup codes.")
            return redirect("two_factor:profile")
        return super().dispatch(request, *args, **kwargs)

    def get(self, request):
        context = {
            **admin.site.each_context(request),
            "title": "Your backup codes",
            "backup_codes_left": backup_codes_left(user=request.user),
        }
        return TemplateResponse(request, "two_factor/core/backup_tokens.html", context)

    def post(self, request):
        try:
            codes = backup_codes_regenerate(user=request.user, ip=client_ip(request))
        except DomainError as exc:
            messages.error(request, exc.message)
            return redirect("two_factor:profile")
        return backup_codes_page(request, codes, next_url=reverse("two_factor:profile"))
