"""Admin for stockpile managers: the review queue (defense-rated first, then oldest), the
decisions named as people say them, entitlements, disruptions and obligations. Every change
goes through the same services as the API, so the same rules and errors apply."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Case, IntegerField, Value, When
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from vault.accounts.models import User
from vault.accounts.roles import Role
from vault.core.admin import (
    EstimatedCountPaginator,
    ReadOnlyAdminMixin,
    ReadOnlyInline,
    ServiceFormMixin,
    form_data,
)
from vault.core.errors import DomainError
from vault.drawdowns import selectors, services
from vault.drawdowns.domain import can_move, second_approval_note
from vault.drawdowns.forms import CommentForm, DateInput, PartialApprovalForm, RejectForm, ReplenishForm
from vault.drawdowns.models import (
    REQUEST_SHOWN_DETAILS,
    REQUEST_SHOWN_PARTIES,
    DisruptionEvent,
    DrawdownRequest,
    DrawdownTransition,
    ParticipationAgreement,
    Replenishment,
    ReplenishmentObligation,
    Reservation,
)
from vault.inventory.models import Material

Status = DrawdownRequest.Status
REVIEW_PERMISSION = "drawdowns.change_drawdownrequest"
AWAITING_ACTION = [Status.SUBMITTED, Status.AWAITING_SECOND_APPROVAL, Status.APPROVED]


# --- requests --------------------------------------------------------------------------------


class TransitionInline(ReadOnlyInline):
    model = DrawdownTransition
    readonly_fields = ["at", "from_status", "to_status", "quantity", "by", "comment"]
    fields = tuple(readonly_fields)
    ordering = ["id"]
    show_change_link = False
    verbose_name = "state change"
    verbose_name_plural = "state history"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("by")


class ReservationInline(ReadOnlyInline):
    model = Reservation
    readonly_fields = ["lot", "quantity", "state", "movement", "created_at", "closed_at"]
    fields = tuple(readonly_fields)
    show_change_link = False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("lot", "movement")


def first_approval_said(done: DrawdownRequest) -> str | None:
    """What a first approval did (None when the approval reserved the stock)."""
    note = second_approval_note(done)
    return f"{done.number}: first approval recorded for {done.first_approved_quantity} kg. {note}" if note else None


def _approve_in_full(obj: DrawdownRequest, by: User, cleaned: dict[str, Any]) -> str:
    done = services.drawdown_approve(request=obj, by=by, comment=cleaned["comment"])
    return first_approval_said(done) or f"{done.number} approved in full ({done.approved_quantity} kg reserved)."


def _approve_in_part(obj: DrawdownRequest, by: User, cleaned: dict[str, Any]) -> str:
    done = services.drawdown_approve(request=obj, by=by, quantity=cleaned["quantity"], comment=cleaned["comment"])
    return first_approval_said(done) or (
        f"{done.number} approved for {done.approved_quantity} kg of {done.quantity} kg requested."
    )


def _reject(obj: DrawdownRequest, by: User, cleaned: dict[str, Any]) -> str:
    services.drawdown_reject(request=obj, by=by, comment=cleaned["comment"])
    return f"{obj.number} rejected."


def _fulfil(obj: DrawdownRequest, by: User, cleaned: dict[str, Any]) -> str:
    obligation = services.drawdown_fulfil(request=obj, by=by, comment=cleaned["comment"])
    return f"{obj.number} fulfilled; {obligation.quantity_due} kg to be replenished by {obligation.due_on}."


def _cancel(obj: DrawdownRequest, by: User, cleaned: dict[str, Any]) -> str:
    services.drawdown_cancel(request=obj, by=by, comment=cleaned["comment"])
    return f"{obj.number} cancelled."


@dataclass(frozen=True)
class Decision:
    """A manager's decision on a request: offered (as `label`, the words people use) where the
    request may move `to`; its page has `form` and a `button`, and `run` calls the service and
    says what it did."""

    label: str
    to: str
    button: str
    form: Callable[[Any, DrawdownRequest], forms.Form]
    run: Callable[[DrawdownRequest, User, dict[str, Any]], str]
    danger: bool = False


def _comment_form(data: Any, obj: DrawdownRequest) -> forms.Form:
    return CommentForm(data)


DECISIONS: dict[str, Decision] = {
    "approve": Decision("Approve in full", Status.APPROVED, "Approve in full", _comment_form, _approve_in_full),
    "approve-part": Decision(
        "Approve in part…",
        Status.APPROVED,
        "Approve this quantity",
        lambda data, obj: PartialApprovalForm(data, initial={"quantity": obj.first_approved_quantity or obj.quantity}),
        _approve_in_part,
    ),
    "reject": Decision("Reject…", Status.REJECTED, "Reject", lambda data, obj: RejectForm(data), _reject, danger=True),
    "fulfil": Decision(
        "Fulfil (issue the material)", Status.FULFILLED, "Fulfil (issue the material)", _comment_form, _fulfil
    ),
    "cancel": Decision("Cancel", Status.CANCELLED, "Cancel the request", _comment_form, _cancel, danger=True),
}


def decision_links(obj: DrawdownRequest) -> list[tuple[str, str]]:
    """(url, label) of the decisions the request's status allows, in the table's order; an
    approval of a request awaiting one is labelled the second approval."""
    second = "Second approval: " if obj.status == Status.AWAITING_SECOND_APPROVAL else ""
    return [
        (
            reverse("admin:drawdowns_drawdownrequest_decide", args=[obj.pk, verb]),
            f"{second}{decision.label.lower()}" if second and decision.to == Status.APPROVED else decision.label,
        )
        for verb, decision in DECISIONS.items()
        if can_move(obj.status, decision.to)
    ]


class QueueFilter(admin.SimpleListFilter):
    title = "queue"
    parameter_name = "queue"

    def lookups(self, request, model_admin):
        return [
            ("review", "To review (submitted or awaiting a second approval)"),
            ("second", "Awaiting a second approval"),
            ("fulfil", "To fulfil (approved)"),
            ("open", "Awaiting action"),
        ]

    def queryset(self, request, queryset):
        statuses = {
            "review": [Status.SUBMITTED, Status.AWAITING_SECOND_APPROVAL],
            "second": [Status.AWAITING_SECOND_APPROVAL],
            "fulfil": [Status.APPROVED],
            "open": AWAITING_ACTION,
        }.get(self.value() or "")
        return queryset.filter(status__in=statuses) if statuses else queryset


@admin.register(DrawdownRequest)
class DrawdownRequestAdmin(ServiceFormMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    """The review queue. Requests are created by participants (portal or API); here managers
    decide. Awaiting action first, then defense-rated, disruption, routine; oldest first."""

    list_display = [
        "number",
        "priority_badge",
        "organization",
        "material",
        "quantity",
        "approved_quantity",
        "needed_by",
        "status",
        "first_approval",
        "waiting",
        "decide",
    ]
    list_filter = [QueueFilter, "status", "priority", "material", "organization"]
    list_select_related = ["organization", "material", "requested_by", "first_approved_by", "approved_by"]
    search_fields = ["=id", "organization__code", "material__code", "justification"]
    paginator = EstimatedCountPaginator
    show_full_result_count = False
    list_per_page = 50
    inlines = [TransitionInline, ReservationInline]
    readonly_fields = [*REQUEST_SHOWN_PARTIES, "agreement", *REQUEST_SHOWN_DETAILS, "reference"]
    fields = tuple(readonly_fields)
    change_form_template = "admin/drawdowns/drawdownrequest/change_form.html"
    actions = ["approve_in_full", "fulfil", "cancel"]

    def get_queryset(self, request):
        awaiting = Case(
            When(status__in=AWAITING_ACTION, then=Value(0)),
            default=Value(1),
            output_field=IntegerField(),
        )
        queryset = self.model._default_manager.get_queryset().annotate(
            awaiting_rank=awaiting, priority_rank=selectors.PRIORITY_RANK
        )
        return queryset.order_by(*self.get_ordering(request))

    def get_ordering(self, request):
        return ["awaiting_rank", "priority_rank", "submitted_at", "created_at", "id"]

    def has_review_permission(self, request) -> bool:
        return request.user.has_perm(REVIEW_PERMISSION)

    @admin.display(description="priority", ordering="priority_rank")
    def priority_badge(self, obj):
        return obj.get_priority_display()

    @admin.display(description="waiting", ordering="submitted_at")
    def waiting(self, obj):
        if obj.status not in AWAITING_ACTION or obj.submitted_at is None:
            return "–"
        days = (timezone.now() - obj.submitted_at).days
        return f"{days} d"

    @admin.display(description="first approval")
    def first_approval(self, obj):
        """Who gave the first approval of a request above the second-approval limits, when, for how much."""
        if obj.first_approved_by_id is None:
            return "–"
        at = timezone.localtime(obj.first_approved_at).strftime("%Y-%m-%d %H:%M") if obj.first_approved_at else ""
        second = f"; second: {obj.approved_by}" if obj.approved_by_id else ""
        return f"{obj.first_approved_by} ({obj.first_approved_quantity} kg, {at}){second}"

    @admin.display(description="decide")
    def decide(self, obj):
        links = decision_links(obj)
        return format_html_join(" · ", '<a href="{}">{}</a>', links) if links else "–"

    def get_urls(self):
        return [
            path(
                "<int:pk>/decide/<slug:verb>/",
                self.admin_site.admin_view(self.decide_view),
                name="drawdowns_drawdownrequest_decide",
            ),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, object_id)
        decisions = decision_links(obj) if obj is not None and self.has_review_permission(request) else []
        extra_context = {**(extra_context or {}), "decisions": decisions}
        return super().change_view(request, object_id, form_url, extra_context)

    def decide_view(self, request, pk: int, verb: str):
        if not self.has_review_permission(request):
            raise PermissionDenied
        obj = get_object_or_404(
            DrawdownRequest.objects.select_related("organization", "material", "first_approved_by"), pk=pk
        )
        done_url = reverse("admin:drawdowns_drawdownrequest_change", args=[obj.pk])
        summary = (
            f"{obj.number}: {obj.organization.code} asks for {obj.quantity} kg of {obj.material.code} "
            f"by {obj.needed_by} ({obj.get_priority_display()}); now {obj.get_status_display().lower()}."
        )
        note = second_approval_note(obj)
        summary = f"{summary} {note}" if note else summary
        decision = DECISIONS.get(verb)
        if decision is None:
            raise Http404("Unknown decision.")
        data, _ = form_data(request)
        return self.service_form_view(
            request,
            title=f"{decision.button}: {obj.number}",
            form=decision.form(data, obj),
            submit_label=decision.button,
            call=lambda cleaned: decision.run(obj, request.user, cleaned),
            success=str,  # each `run` says what it did
            done_url=done_url,
            intro=summary,
            obj=obj,
            danger=decision.danger,
        )

    def _bulk(self, request, queryset, call: Callable, done: str) -> None:
        """`call` each selected request; one that answers a text (a first approval) is reported
        with it rather than as `done`."""
        ok, noted, failed = [], [], []
        for obj in queryset.order_by("id"):
            try:
                result = call(obj)
            except DomainError as exc:
                failed.append(f"{obj.number}: {exc.message}")
            else:
                (noted.append(result) if isinstance(result, str) else ok.append(obj.number))
        if ok:
            messages.success(request, f"{done}: {', '.join(ok)}.")
        for line in noted:
            messages.warning(request, line)
        for line in failed:
            messages.error(request, line)

    @admin.action(description="Approve in full", permissions=["review"])
    def approve_in_full(self, request, queryset):
        def approve(obj: DrawdownRequest) -> str | None:
            return first_approval_said(services.drawdown_approve(request=obj, by=request.user))

        self._bulk(request, queryset, approve, "Approved in full")

    @admin.action(description="Fulfil (issue the material)", permissions=["review"])
    def fulfil(self, request, queryset):
        self._bulk(request, queryset, lambda obj: services.drawdown_fulfil(request=obj, by=request.user), "Fulfilled")

    @admin.action(description="Cancel", permissions=["review"])
    def cancel(self, request, queryset):
        self._bulk(request, queryset, lambda obj: services.drawdown_cancel(request=obj, by=request.user), "Cancelled")


# --- entitlements ----------------------------------------------------------------------------


class AgreementForm(forms.ModelForm):
    class Meta:
        model = ParticipationAgreement
        fields = [
            "organization",
            "material",
            "quantity",
            "locked_price",
            "upfront_fee",
            "replenishment_days",
            "premium_pct",
        ]


@admin.register(ParticipationAgreement)
class ParticipationAgreementAdmin(ServiceFormMixin, admin.ModelAdmin):
    list_display = [
        "organization",
        "material",
        "quantity",
        "remaining",
        "locked_price",
        "replenishment_days",
        "premium_pct",
        "upfront_fee",
        "fee_received_at",
        "active",
    ]
    list_filter = ["active", "material", "organization"]
    list_select_related = ["organization", "material"]
    search_fields = ["organization__code", "material__code"]
    actions = ["record_fee"]
    add_form = AgreementForm
    add_title = "Give an entitlement"
    add_submit_label = "Save entitlement"

    def get_queryset(self, request):
        return selectors.with_remaining(super().get_queryset(request))

    @admin.display(description="remaining (kg)")
    def remaining(self, obj):
        return f"{obj.remaining:.3f}"

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def has_fee_permission(self, request) -> bool:
        """Managers and finance staff record fees, as in the API (it is a ledger posting)."""
        user = request.user
        return user.is_superuser or (user.is_active and user.role in {Role.MANAGER, Role.FINANCE})

    def add_service(self, request, data):
        return services.agreement_create(by=request.user, **data)

    def add_success(self, agreement) -> str:
        return f"Entitlement of {agreement.quantity} kg {agreement.material} given to {agreement.organization.code}."

    @admin.action(description="Record upfront fee received", permissions=["fee"])
    def record_fee(self, request, queryset):
        for agreement in queryset.select_related("organization", "material").order_by("id"):
            try:
                entry = services.agreement_fee_receive(agreement=agreement, by=request.user)
            except DomainError as exc:
                messages.error(request, f"{agreement.organization.code} {agreement.material.code}: {exc.message}")
            else:
                messages.success(
                    request,
                    f"Fee of {agreement.upfront_fee} USD from {agreement.organization.code} posted ({entry.number}).",
                )


# --- disruptions -----------------------------------------------------------------------------


class DisruptionForm(forms.Form):
    materials = forms.ModelMultipleChoiceField(queryset=Material.objects.order_by("code"))
    starts_on = forms.DateField(widget=DateInput)
    ends_on = forms.DateField(widget=DateInput)
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}))


@admin.register(DisruptionEvent)
class DisruptionEventAdmin(ServiceFormMixin, admin.ModelAdmin):
    list_display = ["id", "material_codes", "starts_on", "ends_on", "active_today", "reason", "declared_by"]
    list_filter = ["materials"]
    search_fields = ["reason", "reference", "materials__code"]
    list_select_related = ["declared_by"]
    readonly_fields = ["materials", "starts_on", "ends_on", "reason", "reference", "declared_by", "declared_at"]
    add_form = DisruptionForm
    add_title = "Declare a supply disruption"
    add_submit_label = "Declare disruption"

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("materials")

    @admin.display(description="materials")
    def material_codes(self, obj):
        return ", ".join(m.code for m in obj.materials.all())

    @admin.display(description="active today", boolean=True)
    def active_today(self, obj):
        return obj.starts_on <= timezone.localdate() <= obj.ends_on

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def add_service(self, request, data):
        return services.disruption_declare(by=request.user, **data)

    def add_success(self, event) -> str:
        return f"Disruption declared for {', '.join(m.code for m in event.materials.all())}."


# --- obligations -----------------------------------------------------------------------------


class ReplenishmentInline(ReadOnlyInline):
    model = Replenishment
    readonly_fields = ["received_on", "quantity", "lot", "by", "at"]
    fields = tuple(readonly_fields)
    show_change_link = False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("lot", "by")


@admin.register(ReplenishmentObligation)
class ReplenishmentObligationAdmin(ServiceFormMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "id",
        "request",
        "organization",
        "material",
        "quantity_due",
        "replenished_quantity",
        "due_on",
        "status",
        "replenish_link",
    ]
    list_filter = ["status", "material", "organization"]
    list_select_related = ["request", "organization", "material"]
    search_fields = ["organization__code", "organization__name", "material__code"]
    readonly_fields = [f.name for f in ReplenishmentObligation._meta.fields]
    inlines = [ReplenishmentInline]
    ordering = ["status", "due_on", "id"]

    def has_replenish_permission(self, request) -> bool:
        return request.user.has_perm("drawdowns.change_replenishmentobligation")

    @admin.display(description="")
    def replenish_link(self, obj):
        if obj.status != ReplenishmentObligation.Status.OPEN:
            return ""
        url = reverse("admin:drawdowns_replenishmentobligation_replenish", args=[obj.pk])
        return format_html('<a href="{}">Record replenishment…</a>', url)

    def get_urls(self):
        return [
            path(
                "<int:pk>/replenish/",
                self.admin_site.admin_view(self.replenish_view),
                name="drawdowns_replenishmentobligation_replenish",
            ),
            *super().get_urls(),
        ]

    def replenish_view(self, request, pk: int):
        if not self.has_replenish_permission(request):
            raise PermissionDenied
        obligation = get_object_or_404(
            ReplenishmentObligation.objects.select_related("request", "organization", "material"), pk=pk
        )
        return self.service_form_view(
            request,
            title=f"Record a replenishment: {obligation.request.number}",
            form=ReplenishForm(*form_data(request), initial={"quantity": obligation.outstanding}),
            submit_label="Record replenishment",
            call=lambda data: services.obligation_replenish(obligation=obligation, by=request.user, **data),
            success=lambda replenishment: (
                f"Received {replenishment.quantity} kg as lot {replenishment.lot.lot_number}."
            ),
            done_url=reverse("admin:drawdowns_replenishmentobligation_change", args=[obligation.pk]),
            intro=(
                f"{obligation.organization.code} owes {obligation.outstanding} kg of {obligation.material.code} "
                f"(of {obligation.quantity_due} kg due by {obligation.due_on})."
            ),
            obj=obligation,
        )
