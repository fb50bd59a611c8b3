"""The journal in the admin: read-only entries with their lines, account balances, the trial
balance, and CSV/XLSX downloads of exactly what the changelist's filters select."""

from datetime import date

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef, Subquery, Sum
from django.template.response import TemplateResponse
from django.urls import path, reverse

from vault.core.admin import EstimatedCountPaginator, ReadOnlyAdminMixin, ServiceFormMixin
from vault.ledger import selectors, services
from vault.ledger.apis import JOURNAL, csv_response, export_filename, xlsx_response
from vault.ledger.exports import LineExport, lines_csv, lines_xlsx
from vault.ledger.forms import ManualEntryForm, PeriodCloseForm, ReopenRequestForm
from vault.ledger.models import (
    MANUAL_ENTRY_FIELDS,
    Account,
    DownloadRecord,
    JournalEntry,
    JournalLine,
    ManualEntry,
    PeriodClose,
    ReopenRequest,
)


def _parse_date(value: str | None) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise IncorrectLookupParameters(f"{value!r} is not a date (YYYY-MM-DD).")


class DateRangeFilter(admin.ListFilter):
    """Entries dated from `date_from` to `date_to` (same names as the API's filters)."""

    title = "date range"
    template = "admin/ledger/date_range_filter.html"
    parameters = ("date_from", "date_to")

    def __init__(self, request, params, model, model_admin):
        super().__init__(request, params, model, model_admin)
        for name in self.parameters:
            if name in params:
                value = params.pop(name)
                self.used_parameters[name] = value[-1] if isinstance(value, list) else value

    def has_output(self) -> bool:
        return True

    def expected_parameters(self):
        return list(self.parameters)

    def value(self, name: str) -> date | None:
        raw = self.used_parameters.get(name)
        return _parse_date(raw if isinstance(raw, str) else None)

    def choices(self, changelist):
        preserved = [(k, v) for k, v in changelist.params.items() if k not in self.parameters]
        yield {
            "preserved": preserved,
            "date_from": self.used_parameters.get("date_from", ""),
            "date_to": self.used_parameters.get("date_to", ""),
            "clear_url": changelist.get_query_string(remove=list(self.parameters)),
        }

    def queryset(self, request, queryset):
        if date_from := self.value("date_from"):
            queryset = queryset.filter(date__gte=date_from)
        if date_to := self.value("date_to"):
            queryset = queryset.filter(date__lte=date_to)
        return queryset


class AccountFilter(admin.SimpleListFilter):
    """Entries with a line on the account; the download then adds its running balance."""

    title = "account"
    parameter_name = "account"

    def lookups(self, request, model_admin):
        return [(a.code, str(a)) for a in Account.objects.order_by("code")]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(Exists(JournalLine.objects.filter(entry=OuterRef("pk"), account__code=self.value())))
        return queryset


class FacilityFilter(admin.SimpleListFilter):
    """Entries touching any account of a facility (its sub-ledger)."""

    title = "facility"
    parameter_name = "facility"

    def lookups(self, request, model_admin):
        codes = Account.objects.exclude(subledger="").order_by("subledger").values_list("subledger", flat=True)
        return [(code, code) for code in dict.fromkeys(codes)]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(
                Exists(JournalLine.objects.filter(entry=OuterRef("pk"), account__subledger=self.value()))
            )
        return queryset


class JournalLineInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = JournalLine
    readonly_fields = ["account", "debit", "credit"]
    fields = tuple(readonly_fields)
    extra = 0
    can_delete = False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("account")


@admin.register(JournalEntry)
class JournalEntryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["number", "date", "memo", "amount", "source_reference", "reverses", "posted_by"]
    list_filter = [DateRangeFilter, AccountFilter, FacilityFilter, "source_type"]
    list_select_related = ["posted_by", "reverses"]
    search_fields = ["memo", "=source_id"]
    readonly_fields = ["number", "date", "memo", "source_type", "source_id", "reverses", "posted_at", "posted_by"]
    fields = tuple(readonly_fields)
    inlines = [JournalLineInline]
    paginator = EstimatedCountPaginator
    show_full_result_count = False
    ordering = ["-date", "-id"]
    list_per_page = 50
    change_list_template = "admin/ledger/journalentry/change_list.html"

    def get_queryset(self, request):
        debits = JournalLine.objects.filter(entry=OuterRef("pk")).order_by().values("entry").annotate(t=Sum("debit"))
        return super().get_queryset(request).annotate(amount=Subquery(debits.values("t")[:1]))

    @admin.display(description="Amount", ordering="amount")
    def amount(self, obj):
        return obj.amount

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("export.csv", view(self.export_view), {"fmt": "csv"}, name="ledger_journalentry_export_csv"),
            path("export.xlsx", view(self.export_view), {"fmt": "xlsx"}, name="ledger_journalentry_export_xlsx"),
            path("trial-balance/", view(self.trial_balance_view), name="ledger_trial_balance"),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        query = request.GET.urlencode()
        suffix = f"?{query}" if query else ""
        extra_context = {
            **(extra_context or {}),
            "export_csv_url": reverse("admin:ledger_journalentry_export_csv") + suffix,
            "export_xlsx_url": reverse("admin:ledger_journalentry_export_xlsx") + suffix,
            "trial_balance_url": reverse("admin:ledger_trial_balance"),
        }
        return super().changelist_view(request, extra_context=extra_context)

    def export_selection(self, request) -> LineExport:
        """The lines of the entries the changelist shows with the same query string (filters,
        search); with one account selected, only its lines, with a running balance."""
        changelist = self.get_changelist_instance(request)
        entries = changelist.get_queryset(request)
        account = (
            Account.objects.filter(code=request.GET.get("account")).first() if request.GET.get("account") else None
        )
        return LineExport(
            account=account,
            subledger=request.GET.get("facility") or None,
            date_from=_parse_date(request.GET.get("date_from")),
            date_to=_parse_date(request.GET.get("date_to")),
            entries=entries,
        )

    def export_view(self, request, fmt: str):
        if not self.has_view_permission(request):
            raise PermissionDenied
        try:
            selection = self.export_selection(request)
        except IncorrectLookupParameters as exc:
            raise PermissionDenied(str(exc))
        if fmt == "xlsx":
            return xlsx_response(
                lines_xlsx(selection), export_filename(selection, "xlsx"), request=request, what=JOURNAL
            )
        return csv_response(lines_csv(selection), export_filename(selection, "csv"), request=request, what=JOURNAL)

    def trial_balance_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        as_of = None
        error = ""
        try:
            as_of = _parse_date(request.GET.get("as_of"))
        except IncorrectLookupParameters as exc:
            error = str(exc)
        context = {
            **self.admin_site.each_context(request),
            "title": "Trial balance",
            "opts": self.model._meta,
            "as_of": as_of,
            "error": error,
            "report": selectors.trial_balance(as_of=as_of),
        }
        return TemplateResponse(request, "admin/ledger/trial_balance.html", context)


@admin.register(Account)
class AccountAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Accounts are opened by the services (the chart, each facility); never edited here."""

    list_display = ["code", "name", "type", "subledger", "debits", "credits", "balance", "is_active"]
    list_filter = ["type", "subledger", "is_active"]
    search_fields = ["code", "name"]

    def get_queryset(self, request):
        return selectors.accounts_with_balances()

    @admin.display(description="Debits")
    def debits(self, obj):
        return obj.debits

    @admin.display(description="Credits")
    def credits(self, obj):
        return obj.credits

    @admin.display(description="Balance (normal side)")
    def balance(self, obj):
        return selectors.normal_balance(obj, obj.debits, obj.credits)


@admin.register(DownloadRecord)
class DownloadRecordAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Who downloaded the ledger or a statement, when, and with which filter: staff (auditors
    first) read it; nobody adds, changes or deletes a record."""

    list_display = ["at", "user", "what", "format", "via", "row_count", "query"]
    list_filter = ["what", "format", "via"]
    list_select_related = ["user"]
    search_fields = ["user__username"]
    date_hierarchy = "at"
    ordering = ["-at", "-id"]
    readonly_fields = ["at", "user", "what", "format", "via", "row_count", "query"]
    fields = tuple(readonly_fields)
    paginator = EstimatedCountPaginator
    show_full_result_count = False


class _FinanceControlAdmin(ServiceFormMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    """A control's records: listed for every staff role, added through the service by finance
    (the add permission of roles_sync), never edited; decisions are actions calling the services."""

    def has_add_permission(self, request, obj=None) -> bool:
        return request.user.has_perm(f"{self.opts.app_label}.add_{self.opts.model_name}")

    def _may_decide(self, request) -> bool:
        return request.user.has_perm(f"{self.opts.app_label}.change_{self.opts.model_name}")

    decided_as = "request"  # the keyword the decision services take the row as

    def _by(self, request, service):
        """`service` called on one selected row, by the request's user."""
        return lambda obj: service(**{self.decided_as: obj}, by=request.user)

    def get_actions(self, request):
        actions = super().get_actions(request)
        if not self._may_decide(request):
            for name in self.actions or ():
                if isinstance(name, str):
                    actions.pop(name, None)
        return actions


@admin.register(PeriodClose)
class PeriodCloseAdmin(_FinanceControlAdmin):
    """The closes and reopenings of the books. "Close the books" moves the lock date forward;
    moving it back is a reopen request approved by a second finance user."""

    list_display = ["at", "kind", "through", "requested_by", "approved_by", "reason"]
    list_filter = ["kind"]
    search_fields = ["reason", "requested_by__username", "approved_by__username"]
    list_select_related = ["requested_by", "approved_by"]
    readonly_fields = ["kind", "through", "requested_by", "approved_by", "reason", "at"]
    fields = tuple(readonly_fields)
    add_form = PeriodCloseForm
    add_title = "Close the books"
    add_submit_label = "Close"

    def changelist_view(self, request, extra_context=None):
        closed = selectors.closed_through()
        extra = {"subtitle": f"Closed through {closed}" if closed else "No period is closed", **(extra_context or {})}
        return super().changelist_view(request, extra)

    def add_service(self, request, data):
        return services.period_close(through=data["through"], by=request.user)

    def add_success(self, result) -> str:
        return f"The books are closed through {result.through}."


@admin.register(ReopenRequest)
class ReopenRequestAdmin(_FinanceControlAdmin):
    list_display = ["requested_at", "through", "state", "requested_by", "decided_by", "decided_at", "reason"]
    list_filter = ["state"]
    search_fields = ["reason", "requested_by__username", "decided_by__username"]
    list_select_related = ["requested_by", "decided_by"]
    readonly_fields = ["through", "reason", "state", "requested_by", "requested_at", "decided_by", "decided_at"]
    fields = tuple(readonly_fields)
    actions = ["approve", "reject"]
    add_form = ReopenRequestForm
    add_title = "Ask to reopen the books"
    add_submit_label = "Ask"

    def add_service(self, request, data):
        return services.period_reopen_request(through=data["through"], reason=data["reason"], by=request.user)

    @admin.action(description="Approve the selected reopening (a second finance user)")
    def approve(self, request, queryset):
        self.service_action(request, queryset, verb="Approved", call=self._by(request, services.period_reopen_approve))

    @admin.action(description="Reject the selected reopening")
    def reject(self, request, queryset):
        self.service_action(request, queryset, verb="Rejected", call=self._by(request, services.period_reopen_reject))


@admin.register(ManualEntry)
class ManualEntryAdmin(_FinanceControlAdmin):
    """Manual journal entries: one finance user proposes, another posts (four eyes). No line may
    touch a control account."""

    list_display = ["id", "date", "memo", "state", "proposed_by", "decided_by", "decided_at", "entry"]
    list_filter = ["state"]
    list_select_related = ["proposed_by", "decided_by", "entry"]
    search_fields = ["memo"]
    readonly_fields = MANUAL_ENTRY_FIELDS
    fields = tuple(readonly_fields)
    actions = ["post_entries", "reject"]
    decided_as = "proposal"
    add_form = ManualEntryForm
    add_title = "Propose a manual journal entry"
    add_submit_label = "Propose"

    def add_service(self, request, data):
        return services.manual_entry_propose(date=data["date"], memo=data["memo"], lines=data["lines"], by=request.user)

    @admin.action(description="Post the selected entries (a second finance user)")
    def post_entries(self, request, queryset):
        self.service_action(request, queryset, verb="Posted", call=self._by(request, services.manual_entry_post))

    @admin.action(description="Reject the selected entries")
    def reject(self, request, queryset):
        self.service_action(request, queryset, verb="Rejected", call=self._by(request, services.manual_entry_reject))
