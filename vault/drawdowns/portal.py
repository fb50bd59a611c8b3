"""The manufacturers' portal: server-rendered pages over the same selectors and services as
the API. A manufacturer sees only its organization's rows; another's request is a 404."""

from __future__ import annotations

from functools import wraps

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.views import LoginView, LogoutView, redirect_to_login
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.views.decorators.http import require_POST

from vault.accounts.forms import ParticipantPasswordResetForm
from vault.accounts.permissions import is_manufacturer
from vault.accounts.views import PasswordResetConfirmView, ThrottledPasswordResetView
from vault.core.errors import DomainError
from vault.drawdowns import selectors, services
from vault.drawdowns.domain import can_move, second_approval_note
from vault.drawdowns.forms import CommentForm, DrawdownRequestForm, PortalAuthenticationForm
from vault.drawdowns.models import DrawdownRequest, ReplenishmentObligation

PAGE_SIZE = 25


class PortalLoginView(LoginView):
    template_name = "portal/login.html"
    authentication_form = PortalAuthenticationForm
    redirect_authenticated_user = True
    next_page = reverse_lazy("portal:dashboard")  # type: ignore[assignment]  # Django takes a lazy URL


class PortalLogoutView(LogoutView):
    next_page = reverse_lazy("portal:login")  # type: ignore[assignment]  # Django takes a lazy URL


# --- password reset by e-mail: the same answer whatever the address (no account enumeration),
# a one-time link that expires (PASSWORD_RESET_TIMEOUT), the validators, API tokens revoked.


class PortalPasswordResetView(ThrottledPasswordResetView):
    form_class = ParticipantPasswordResetForm
    template_name = "portal/password_reset_form.html"
    subject_template_name = "portal/password_reset_subject.txt"
    email_template_name = "portal/password_reset_email.txt"
    success_url = reverse_lazy("portal:password_reset_done")


class PortalPasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "portal/password_reset_done.html"


class PortalPasswordResetConfirmView(PasswordResetConfirmView):
    template_name = "portal/password_reset_confirm.html"
    success_url = reverse_lazy("portal:password_reset_complete")


class PortalPasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "portal/password_reset_complete.html"


def manufacturer_required(view):
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path(), reverse("portal:login"))
        if not is_manufacturer(request.user):
            raise PermissionDenied("The portal is for participant manufacturers.")
        return view(request, *args, **kwargs)

    return wrapped


def _own_request(request, pk: int) -> DrawdownRequest:
    found = selectors.drawdown_get(user=request.user, pk=pk)
    if found is None:
        raise Http404("No such drawdown request.")
    return found


def _show_error(request, form, exc: DomainError) -> None:
    if form is not None and exc.field in form.fields:
        form.add_error(exc.field, exc.message)
    elif form is not None:
        form.add_error(None, exc.message)
    else:
        messages.error(request, exc.message)


@manufacturer_required
def dashboard(request):
    user = request.user
    entitlements = list(selectors.entitlement_list(user=user).filter(active=True))
    obligations = list(
        selectors.obligation_list(user=user).filter(status=ReplenishmentObligation.Status.OPEN).order_by("due_on")
    )
    recent = list(selectors.drawdown_list(user=user)[:5])
    disruptions = list(
        selectors.disruption_list()
        .filter(selectors.disruption_active_filter(), materials__in=[e.material_id for e in entitlements])
        .distinct()
    )
    context = {
        "entitlements": entitlements,
        "obligations": obligations,
        "recent": recent,
        "disruptions": disruptions,
    }
    return render(request, "portal/dashboard.html", context)


@manufacturer_required
def request_list(request):
    queryset = selectors.drawdown_list(user=request.user)
    status = request.GET.get("status") or ""
    if status in DrawdownRequest.Status.values:
        queryset = queryset.filter(status=status)
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"page": page, "status": status, "statuses": DrawdownRequest.Status.choices}
    return render(request, "portal/request_list.html", context)


@manufacturer_required
def request_create(request):
    material_ids = selectors.entitled_material_ids(organization=request.user.organization)
    form = DrawdownRequestForm(request.POST if request.method == "POST" else None, material_ids=material_ids)
    if request.method == "POST" and form.is_valid():
        submit = request.POST.get("action") != "draft"
        try:
            created = services.drawdown_create(by=request.user, submit=submit, **form.cleaned_data)
        except DomainError as exc:
            _show_error(request, form, exc)
        else:
            verb = "submitted for review" if submit else "saved as a draft"
            messages.success(request, f"Request {created.number} {verb}.")
            return redirect("portal:request_detail", pk=created.pk)
    entitlements = list(selectors.entitlement_list(user=request.user).filter(active=True))
    status = 400 if request.method == "POST" else 200
    return render(request, "portal/request_form.html", {"form": form, "entitlements": entitlements}, status=status)


@manufacturer_required
def request_detail(request, pk: int):
    found = _own_request(request, pk)
    context = {
        "req": found,
        "transitions": list(selectors.transition_list(request=found)),
        "obligation": ReplenishmentObligation.objects.filter(request=found).first(),
        "can_cancel": can_move(found.status, DrawdownRequest.Status.CANCELLED),
        "can_submit": found.status == DrawdownRequest.Status.DRAFT,
        "second_approval_note": second_approval_note(found),
        "form": CommentForm(),
    }
    return render(request, "portal/request_detail.html", context)


@require_POST
@manufacturer_required
def request_cancel(request, pk: int):
    found = _own_request(request, pk)
    form = CommentForm(request.POST)
    comment = form.cleaned_data["comment"] if form.is_valid() else ""
    try:
        services.drawdown_cancel(request=found, by=request.user, comment=comment)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Request {found.number} cancelled.")
    return redirect("portal:request_detail", pk=found.pk)


@require_POST
@manufacturer_required
def request_submit(request, pk: int):
    found = _own_request(request, pk)
    try:
        services.drawdown_submit(request=found, by=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Request {found.number} submitted for review.")
    return redirect("portal:request_detail", pk=found.pk)
