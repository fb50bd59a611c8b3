"""Financing in the admin. Every write goes through the same services as the API (custom add
views and actions); the money rows themselves are read-only here."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.http import urlencode

from vault.core.admin import HistoryAdmin, ReadOnlyAdminMixin, ServiceFormMixin, form_data
from vault.core.errors import DomainError, InvalidInput
from vault.financing import selectors, services
from vault.financing.exports import statement_csv, statement_download, statement_filename, statement_xlsx
from vault.financing.forms import (
    FacilityAddForm,
    FacilityTermsForm,
    FeeForm,
    InterestPaymentForm,
    PriceImportForm,
    PricePointForm,
    RateForm,
    RepaymentForm,
    StatementForm,
    TrancheDisburseForm,
    TranchePlanForm,
    ValuationForm,
)
from vault.financing.models import (
    PRICE_VERSION_FIELDS,
    TRANCHE_FIELDS,
    Facility,
    FeeReceipt,
    InterestAccrual,
    InterestPayment,
    InterestRate,
    PricePoint,
    Repayment,
    Tranche,
)
from vault.ledger.apis import csv_response, xlsx_response


class TrancheInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = Tranche
    readonly_fields = ["id", "amount", "expected_date", "actual_date", "status", "purpose"]
    fields = tuple(readonly_fields)
    extra = 0
    show_change_link = True
    ordering = ["expected_date", "id"]


class InterestRateInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = InterestRate
    readonly_fields = ["effective_from", "rate_pct", "created_by", "created_at"]
    fields = tuple(readonly_fields)
    extra = 0
    ordering = ["effective_from"]


@admin.register(Facility)
class FacilityAdmin(ServiceFormMixin, HistoryAdmin):
    list_display = [
        "code",
        "name",
        "kind",
        "counterparty",
        "commitment",
        "disbursed",
        "approved",
        "outstanding",
        "undrawn",
        "current_rate",
        "day_count",
        "maturity_date",
    ]
    list_filter = ["kind", "day_count"]
    search_fields = ["code", "name", "counterparty"]
    inlines = [InterestRateInline, TrancheInline]
    add_form = FacilityAddForm
    add_title = "Add a facility"
    readonly_fields = [
        "code",
        "name",
        "kind",
        "counterparty",
        "currency",
        "commitment",
        "available_from",
        "available_until",
        "maturity_date",
        "day_count",
        "account",
        "interest_account",
        "disbursed",
        "approved",
        "outstanding",
        "undrawn",
        "links",
    ]
    fields = tuple(readonly_fields)

    def get_queryset(self, request):
        return selectors.facility_list()

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        # The change page is read-only; terms and rates change through their own forms.
        return False

    @admin.display(description="Rate today, %")
    def current_rate(self, obj):
        return selectors.rate_on(obj, timezone.localdate())

    @admin.display(description="Outstanding")
    def outstanding(self, obj):
        return obj.outstanding

    @admin.display(description="Undrawn")
    def undrawn(self, obj):
        return obj.undrawn

    @admin.display(description="")
    def links(self, obj):
        if obj.pk is None:
            return ""
        return format_html(
            '<a href="{}">Statement</a> · <a href="{}">Journal</a> · <a href="{}">Plan a tranche</a>'
            ' · <a href="{}">Change terms</a> · <a href="{}">Add a rate change</a>',
            reverse("admin:financing_facility_statement", args=[obj.code]),
            reverse("admin:ledger_journalentry_changelist") + "?" + urlencode({"facility": obj.code}),
            reverse("admin:financing_tranche_add") + "?" + urlencode({"facility": obj.code}),
            reverse("admin:financing_facility_terms", args=[obj.code]),
            reverse("admin:financing_facility_rate", args=[obj.code]),
        )

    def add_service(self, request, data):
        return services.facility_create(by=request.user, **data)

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<str:code>/statement/", view(self.statement_view), name="financing_facility_statement"),
            path("<str:code>/terms/", view(self.terms_view), name="financing_facility_terms"),
            path("<str:code>/rate/", view(self.rate_view), name="financing_facility_rate"),
            *super().get_urls(),
        ]

    def _facility(self, code: str) -> Facility:
        return get_object_or_404(selectors.facility_list(), code=code)

    def _can_write(self, request) -> bool:
        return request.user.has_perm("financing.add_facility")

    def terms_view(self, request, code: str):
        if not self._can_write(request):
            raise PermissionDenied
        facility = self._facility(code)
        initial = {f: getattr(facility, f) for f in FacilityTermsForm.base_fields}
        form = FacilityTermsForm(*form_data(request), initial=initial)
        return self.service_form_view(
            request,
            form=form,
            title=f"Change the terms of {facility.code}",
            obj=facility,
            call=lambda data: services.facility_update(facility=facility, by=request.user, **data),
            success=lambda result: f"Updated {result.code}.",
        )

    def rate_view(self, request, code: str):
        if not self._can_write(request):
            raise PermissionDenied
        facility = self._facility(code)
        form = RateForm(*form_data(request))
        return self.service_form_view(
            request,
            form=form,
            title=f"Add a rate change to {facility.code}",
            obj=facility,
            intro="The new rate is in force from its date until the next change; days already accrued keep theirs.",
            call=lambda data: services.facility_rate_set(facility=facility, by=request.user, **data),
            success=lambda rate: f"{facility.code}: {rate}.",
        )

    def statement_view(self, request, code: str):
        if not self.has_view_permission(request):
            raise PermissionDenied
        facility = self._facility(code)
        form = StatementForm(request.GET or None)
        params = form.cleaned_data if form.is_valid() else {}
        try:
            statement = selectors.facility_statement(
                facility=facility,
                period=params.get("period") or "month",
                date_from=params.get("date_from"),
                date_to=params.get("date_to"),
            )
        except DomainError as exc:
            messages.error(request, exc.message)
            statement = selectors.facility_statement(facility=facility)
        download = request.GET.get("download")
        if download == "csv":
            return csv_response(
                statement_csv(statement),
                statement_filename(statement, "csv"),
                **statement_download(statement, request=request),
            )
        if download == "xlsx":
            return xlsx_response(
                statement_xlsx(statement),
                statement_filename(statement, "xlsx"),
                **statement_download(statement, request=request),
            )
        query = request.GET.copy()
        query.pop("download", None)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Statement of {facility.code}",
            "opts": self.opts,
            "original": facility,
            "facility": facility,
            "form": form,
            "statement": statement,
            "csv_query": urlencode({**query.dict(), "download": "csv"}),
            "xlsx_query": urlencode({**query.dict(), "download": "xlsx"}),
        }
        return TemplateResponse(request, "admin/financing/statement.html", context)


@admin.register(Tranche)
class TrancheAdmin(ServiceFormMixin, HistoryAdmin):
    """Four eyes in the list: who planned, approved, asked for and posted each disbursement."""

    list_display = [
        "id",
        "facility",
        "amount",
        "expected_date",
        "actual_date",
        "status",
        "purpose",
        "created_by",
        "approved_by",
        "approved_at",
        "disbursement_requested_by",
        "disbursement_date",
        "disbursed_by",
        "disburse_link",
    ]
    list_filter = ["status", "facility"]
    list_select_related = ["facility", "created_by", "approved_by", "disbursement_requested_by", "disbursed_by"]
    search_fields = ["purpose", "facility__code"]
    actions = ["approve", "disburse_confirm", "cancel"]
    add_form = TranchePlanForm
    add_title = "Plan a tranche"
    readonly_fields = TRANCHE_FIELDS
    fields = tuple(readonly_fields)

    def add_service(self, request, data):
        return services.tranche_plan(by=request.user, **data)

    def has_change_permission(self, request, obj=None) -> bool:
        # Rows change only through the workflow (actions); the change page is read-only.
        return False if obj is not None else super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def _may_act(self, request) -> bool:
        return request.user.has_perm("financing.change_tranche")

    def has_act_permission(self, request) -> bool:
        """Who sees the workflow's actions (Django's `@admin.action(permissions=["act"])`)."""
        return self._may_act(request)

    @admin.action(description="Approve selected tranches (planned by another user)", permissions=["act"])
    def approve(self, request, queryset):
        approve = services.tranche_approve
        self.service_action(request, queryset, verb="Approved", call=lambda t: approve(tranche=t, by=request.user))

    @admin.action(description="Confirm the disbursements requested by another user", permissions=["act"])
    def disburse_confirm(self, request, queryset):
        confirm = services.tranche_disburse_confirm
        self.service_action(request, queryset, verb="Disbursed", call=lambda t: confirm(tranche=t, by=request.user))

    @admin.action(description="Cancel selected tranches", permissions=["act"])
    def cancel(self, request, queryset):
        cancel = services.tranche_cancel
        self.service_action(
            request, queryset, verb="Cancelled", call=lambda t: cancel(tranche=t, by=request.user, reason="admin")
        )

    @admin.display(description="")
    def disburse_link(self, obj):
        if obj.status != Tranche.Status.APPROVED:
            return ""
        label = "Awaiting confirmation · Disburse…" if obj.disbursement_pending else "Disburse…"
        return format_html('<a href="{}">{}</a>', reverse("admin:financing_tranche_disburse", args=[obj.pk]), label)

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<int:pk>/disburse/", view(self.disburse_view), name="financing_tranche_disburse"),
            *super().get_urls(),
        ]

    def disburse_view(self, request, pk: int):
        if not self._may_act(request):
            raise PermissionDenied
        tranche = get_object_or_404(Tranche.objects.select_related("facility"), pk=pk)
        form = TrancheDisburseForm(*form_data(request), initial={"date": timezone.localdate()})
        threshold = services.second_approval_threshold()
        intro = "Posts Dr cash / Cr the facility's loan payable (or investor capital) on the date given."
        if tranche.amount > threshold:
            intro += (
                f" Above {threshold} USD this records a request: another finance user confirms it"
                " (action “Confirm the disbursements requested by another user”), and only then does it post."
            )
        return self.service_form_view(
            request,
            form=form,
            title=f"Disburse tranche {tranche.pk} of {tranche.facility.code} ({tranche.amount} USD)",
            obj=tranche,
            intro=intro,
            call=lambda data: services.tranche_disburse(tranche=tranche, by=request.user, date=data["date"]),
            success=_disbursed_or_requested,
        )


def _disbursed_or_requested(tranche: Tranche) -> str:
    if tranche.disbursement_pending:
        return (
            f"Requested the disbursement of tranche {tranche.pk} on {tranche.disbursement_date}: "
            "another finance user must confirm it."
        )
    return f"Disbursed tranche {tranche.pk} on {tranche.actual_date}."


class _MoneyRowAdmin(ServiceFormMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    """Append-only money rows: listed, added through their service, never edited."""

    list_select_related = ["facility"]

    def has_add_permission(self, request, obj=None) -> bool:
        return request.user.has_perm(f"{self.opts.app_label}.add_{self.opts.model_name}")


class _FacilityPaymentAdmin(_MoneyRowAdmin):
    """Repayments and interest payments."""

    list_display = ["id", "facility", "date", "amount", "memo", "created_by"]
    list_filter = ["facility"]
    search_fields = ["facility__code", "memo"]
    date_hierarchy = "date"


@admin.register(Repayment)
class RepaymentAdmin(_FacilityPaymentAdmin):
    add_form = RepaymentForm
    add_title = "Record a repayment"

    def add_service(self, request, data):
        return services.repayment_create(by=request.user, **data)


@admin.register(InterestPayment)
class InterestPaymentAdmin(_FacilityPaymentAdmin):
    add_form = InterestPaymentForm
    add_title = "Record an interest payment"

    def add_service(self, request, data):
        return services.interest_pay(by=request.user, **data)


@admin.register(InterestAccrual)
class InterestAccrualAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["facility", "date", "principal", "rate_pct", "day_count", "amount"]
    list_filter = ["facility"]
    search_fields = ["facility__code"]
    list_select_related = ["facility"]
    date_hierarchy = "date"
    show_full_result_count = False


@admin.register(FeeReceipt)
class FeeReceiptAdmin(_MoneyRowAdmin):
    list_display = ["id", "organization", "date", "amount", "memo", "source_type", "source_id", "entry"]
    list_filter = ["organization", "source_type"]
    search_fields = ["organization__code", "organization__name", "memo"]
    list_select_related = ["organization", "entry"]
    add_form = FeeForm
    add_title = "Record a fee received"

    def add_service(self, request, data):
        entry = services.fee_receive(by=request.user, source_type="fee", source_id=None, **data)
        return entry.fee_receipt


@admin.register(PricePoint)
class PricePointAdmin(ServiceFormMixin, admin.ModelAdmin):
    """Append-only versions: "Delete" proposes a withdrawal, adding a priced day and source
    proposes a correction; both, and large moves, wait for a second finance user's "Confirm"."""

    list_display = [
        "material",
        "date",
        "usd_per_kg",
        "source",
        "version",
        "withdrawn",
        "status",
        "created_by",
        "confirmed_by",
        "confirmed_at",
    ]
    list_filter = ["status", "material", "source"]
    list_select_related = ["material", "created_by", "confirmed_by"]
    actions = ["confirm", "reject"]
    date_hierarchy = "date"
    search_fields = ["material__code", "source"]
    add_form = PricePointForm
    add_title = "Add a market price"
    change_list_template = "admin/financing/pricepoint/change_list.html"
    readonly_fields = ["material", "date", "usd_per_kg", "source", *PRICE_VERSION_FIELDS]
    fields = tuple(readonly_fields)

    def add_service(self, request, data):
        return services.price_point_create(by=request.user, **data)

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def delete_service(self, request, obj):
        services.price_point_withdraw(price_point=obj, by=request.user)

    def has_decide_permission(self, request) -> bool:
        """Who sees "Confirm" and "Reject" (Django's `@admin.action(permissions=["decide"])`)."""
        return request.user.has_perm("financing.add_pricepoint")

    @admin.action(description="Confirm the selected prices proposed by another user", permissions=["decide"])
    def confirm(self, request, queryset):
        confirm = services.price_point_confirm
        self.service_action(request, queryset, verb="Confirmed", call=lambda p: confirm(price_point=p, by=request.user))

    @admin.action(description="Reject the selected prices proposed by another user", permissions=["decide"])
    def reject(self, request, queryset):
        reject = services.price_point_reject
        self.service_action(request, queryset, verb="Rejected", call=lambda p: reject(price_point=p, by=request.user))

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("import/", view(self.import_view), name="financing_pricepoint_import"),
            path("valuation/", view(self.valuation_view), name="financing_valuation"),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "import_url": reverse("admin:financing_pricepoint_import"),
            "valuation_url": reverse("admin:financing_valuation"),
            "can_import": self.has_add_permission(request),
        }
        return super().changelist_view(request, extra_context=extra_context)

    def import_view(self, request):
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = PriceImportForm(*form_data(request))

        def run(data):
            try:
                text = data["file"].read().decode("utf-8-sig")
            except UnicodeDecodeError:
                raise InvalidInput("The file is not UTF-8 text.", field="file", code="file_not_utf8")
            return services.price_points_import(text=text, by=request.user, default_source=data["default_source"])

        return self.service_form_view(
            request,
            form=form,
            title="Import market prices (CSV)",
            intro="Columns: material,date,usd_per_kg,source. All rows or none: a bad row names its line.",
            call=run,
            success=lambda r: (
                f"Imported prices: {r.created} new, {r.updated} corrected, {r.unchanged} unchanged; "
                f"{len(r.pending)} pending a second finance user"
                + (": " + ", ".join(str(p) for p in r.pending) if r.pending else "")
                + "."
            ),
        )

    def valuation_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        form = ValuationForm(request.GET or None)
        params = form.cleaned_data if form.is_valid() else {}
        valuation = selectors.holdings_valuation(
            as_of=params.get("as_of"), source=params.get("source") or None, known_at=params.get("known_at")
        )
        context = {
            **self.admin_site.each_context(request),
            "title": "Valuation of the holdings",
            "opts": self.opts,
            "form": form,
            "valuation": valuation,
        }
        return TemplateResponse(request, "admin/financing/valuation.html", context)
