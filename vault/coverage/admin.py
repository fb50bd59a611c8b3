from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseNotAllowed
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.http import url_has_allowed_host_and_scheme

from vault.accounts.roles import Role
from vault.core.admin import (
    EstimatedCountPaginator,
    HistoryAdmin,
    ReadOnlyAdminMixin,
    ReadOnlyInline,
    ServiceFormMixin,
)
from vault.coverage import services
from vault.coverage.domain import Status
from vault.coverage.models import Alert, ConsumptionForecast, CoverageRun, CoverageSnapshot, ForecastVersion, Inbound

STATUS_LABELS = dict(Status.choices)


def status_badge(status: str):
    """A coloured label that also says the status in words (never colour alone)."""
    return format_html(
        '<span class="vault-status vault-status-{}">{}</span>', status, STATUS_LABELS.get(status, status)
    )


def days_display(days, beyond_horizon: bool) -> str:
    if days is None:
        return "unbounded"
    return f"≥ {days}" if beyond_horizon else str(days)


class ForecastUploadForm(forms.Form):
    file = forms.FileField(help_text="CSV, UTF-8, header: material,month,quantity[,organization]; month as YYYY-MM.")
    note = forms.CharField(max_length=300, required=False)


@admin.register(ForecastVersion)
class ForecastVersionAdmin(ServiceFormMixin, admin.ModelAdmin):
    """Forecast uploads. "Add" uploads a CSV file: all or nothing, with row-level errors."""

    add_form = ForecastUploadForm
    add_title = "Upload a consumption forecast"
    add_submit_label = "Upload"
    service_form_template = "admin/coverage/forecast_upload.html"

    list_display = ["id", "created_at", "created_by", "source", "row_count", "superseded_count", "rows_link"]
    list_select_related = ["created_by"]
    list_filter = ["created_by"]
    search_fields = ["source", "note"]
    date_hierarchy = "created_at"
    readonly_fields = ["created_at", "created_by", "source", "note", "row_count", "superseded_count"]

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="Rows")
    def rows_link(self, obj):
        url = reverse("admin:coverage_consumptionforecast_changelist") + f"?version__id__exact={obj.pk}"
        return format_html('<a href="{}">{} rows</a>', url, obj.row_count)

    def add_service(self, request, data):
        upload = data["file"]
        return services.forecast_import_csv(
            file=upload.file, by=request.user, source=f"csv:{upload.name}", note=data["note"]
        )

    def add_success(self, version) -> str:
        return (
            f"Imported {version.row_count} forecast rows as version {version.pk} "
            f"({version.superseded_count} earlier rows superseded)."
        )


@admin.register(ConsumptionForecast)
class ConsumptionForecastAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["material", "organization", "month", "quantity", "version", "current"]
    list_filter = [("superseded_by", admin.EmptyFieldListFilter), "material", "organization"]
    list_select_related = ["material", "organization", "version"]
    search_fields = ["material__code", "organization__code"]
    paginator = EstimatedCountPaginator
    show_full_result_count = False

    @admin.display(boolean=True, description="Current")
    def current(self, obj) -> bool:
        return obj.superseded_by_id is None


class InboundForm(forms.ModelForm):
    class Meta:
        model = Inbound
        fields = ["material", "quantity", "expected_date", "confirmed", "note"]


@admin.register(Inbound)
class InboundAdmin(ServiceFormMixin, HistoryAdmin):
    form = InboundForm
    list_display = ["expected_date", "material", "quantity", "confirmed", "note", "created_by"]
    list_filter = ["confirmed", "material"]
    search_fields = ["material__code", "note"]
    list_select_related = ["material", "created_by"]
    date_hierarchy = "expected_date"

    def get_readonly_fields(self, request, obj=None):
        return ["material"] if obj else []

    def add_service(self, request, data):
        return services.inbound_create(by=request.user, **data)

    def change_service(self, request, obj, changes):
        services.inbound_update(inbound=obj, by=request.user, **changes)

    def delete_service(self, request, obj):
        services.inbound_delete(inbound=obj, by=request.user)


class SnapshotInline(ReadOnlyInline):
    model = CoverageSnapshot
    readonly_fields = [
        "material",
        "usable_stock",
        "forward_days",
        "beyond_horizon",
        "trailing_days",
        "target_days",
        "status",
    ]
    fields = tuple(readonly_fields)
    show_change_link = False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("material")


def may_run_check(user) -> bool:
    """Managers run a coverage check on demand (as `POST /api/v1/coverage/check/`)."""
    return user.is_active and (user.is_superuser or user.role == Role.MANAGER)


@admin.register(CoverageRun)
class CoverageRunAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["id", "as_of", "started_at", "finished_at", "trigger", "material_count", "alerts_opened"]
    list_filter = ["trigger"]
    search_fields = ["trigger"]
    date_hierarchy = "started_at"
    inlines = [SnapshotInline]
    readonly_fields = [f.name for f in CoverageRun._meta.fields]

    def get_urls(self):
        check = path("check/", self.admin_site.admin_view(self.check_view), name="coverage_coveragerun_check")
        return [check, *super().get_urls()]

    def check_view(self, request):
        """POST: check every material now, then go back to where the button was."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not may_run_check(request.user):
            raise PermissionDenied
        run = services.coverage_check(trigger=f"manual by {request.user.username}")
        messages.success(
            request,
            f"Coverage checked for {run.material_count} materials: {run.alerts_opened} alert(s) opened, "
            f"{run.alerts_resolved} resolved.",
        )
        back = request.POST.get("next", "")
        if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
            back = reverse("admin:index")
        return redirect(back)


@admin.register(CoverageSnapshot)
class CoverageSnapshotAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "as_of",
        "material",
        "usable_stock",
        "forward",
        "trailing_days",
        "target_days",
        "status_label",
        "depletion_date",
        "china_mining_share",
        "china_processing_share",
        "concentration_flagged",
    ]
    list_filter = ["status", "concentration_flagged", "material"]
    list_select_related = ["material"]
    paginator = EstimatedCountPaginator
    search_fields = ["material__code"]
    show_full_result_count = False
    readonly_fields = [f.name for f in CoverageSnapshot._meta.fields]

    class Media:
        css = {"all": ["coverage/dashboard.css"]}

    @admin.display(description="Forward days", ordering="forward_days")
    def forward(self, obj):
        return days_display(obj.forward_days, obj.beyond_horizon)

    @admin.display(description="Status", ordering="status")
    def status_label(self, obj):
        return status_badge(obj.status)


@admin.register(Alert)
class AlertAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["material", "level_label", "opened_at", "resolved_at", "forward_days", "target_days", "notified_at"]
    list_filter = [("resolved_at", admin.EmptyFieldListFilter), "level", "material"]
    search_fields = ["material__code", "material__name"]
    list_select_related = ["material"]
    readonly_fields = [f.name for f in Alert._meta.fields]

    class Media:
        css = {"all": ["coverage/dashboard.css"]}

    @admin.display(description="Level", ordering="level")
    def level_label(self, obj):
        return status_badge(obj.level)
