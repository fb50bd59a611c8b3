"""Ledger API: journal entries (read; finance posts manual entries and reversals), account
balances, the trial balance and the journal downloads. Routed from vault/financing/urls.py."""

from typing import TYPE_CHECKING

from django.http import FileResponse, StreamingHttpResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from vault.accounts.roles import Role
from vault.core.routers import routed
from vault.ledger import selectors, services
from vault.ledger.exports import LineExport, lines_csv, lines_xlsx
from vault.ledger.filters import JournalEntryFilter
from vault.ledger.models import DownloadRecord, JournalEntry, ManualEntry, ReopenRequest
from vault.ledger.serializers import (
    AccountBalanceSerializer,
    AsOfSerializer,
    DecisionNoteSerializer,
    EntryReverseSerializer,
    JournalEntrySerializer,
    LedgerExportQuerySerializer,
    ManualEntryProposalSerializer,
    ManualEntrySerializer,
    PeriodCloseInputSerializer,
    PeriodCloseSerializer,
    ReopenRequestInputSerializer,
    ReopenRequestSerializer,
    TrialBalanceSerializer,
)

FINANCE_WRITERS = (Role.FINANCE,)
JOURNAL = DownloadRecord.What.JOURNAL
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
AS_OF = OpenApiParameter("as_of", OpenApiTypes.DATE, description="Balances up to and including this date.")


class FileRenderer(BaseRenderer):
    """Lets clients ask for the file type (Accept: text/csv) without a 406; errors stay JSON."""

    charset = None

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return JSONRenderer().render(data)


class CsvRenderer(FileRenderer):
    media_type = "text/csv"
    format = "csv"


class XlsxRenderer(FileRenderer):
    media_type = XLSX_TYPE
    format = "xlsx"


if TYPE_CHECKING:  # what the mixin is mixed into, for the type checker
    _APIView = APIView
else:
    _APIView = object


class FileDownloadMixin(_APIView):
    """For views that answer with a file: any Accept header (or `?format=`) gets the file, and
    errors are always JSON, with the one error shape of the API."""

    file_renderer: type[FileRenderer] = CsvRenderer

    def get_renderers(self):
        return [JSONRenderer(), self.file_renderer()]

    def perform_content_negotiation(self, request, force=False):
        return super().perform_content_negotiation(request, force=True)

    def finalize_response(self, request, response, *args, **kwargs):
        if isinstance(response, Response) and response.status_code >= 400:
            request.accepted_renderer = JSONRenderer()
            request.accepted_media_type = JSONRenderer.media_type
        return super().finalize_response(request, response, *args, **kwargs)


# Parameters that choose the file's format or the download itself, not the rows in it.
NOT_FILTERS = frozenset({"format", "download"})


def download_query(params) -> dict:
    """The filter of a download as JSON, from a request's query parameters: one value as a
    string, a repeated parameter as a list."""
    return {key: values[0] if len(values) == 1 else values for key, values in params.lists() if key not in NOT_FILTERS}


def _record(request, *, what: str, query: dict | None, fmt: str, row_count: int | None) -> None:
    services.download_record(
        by=request.user,
        what=what,
        query=download_query(request.GET) if query is None else query,
        format=fmt,
        via="api" if isinstance(request, Request) else "admin",
        row_count=row_count,
    )


# The only two ways to answer with a file, and both record the download (DownloadRecord): a
# view cannot hand out the ledger or a statement without saying who took what, with which filter.
def csv_response(
    chunks, filename: str, *, request, what: str, query: dict | None = None, row_count: int | None = None
) -> StreamingHttpResponse:
    """`query`: the filter to record (default: the request's query parameters)."""
    _record(request, what=what, query=query, fmt="csv", row_count=row_count)
    response = StreamingHttpResponse(chunks, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


def xlsx_response(
    file, filename: str, *, request, what: str, query: dict | None = None, row_count: int | None = None
) -> FileResponse:
    _record(request, what=what, query=query, fmt="xlsx", row_count=row_count)
    response = FileResponse(file, as_attachment=True, filename=filename, content_type=XLSX_TYPE)
    response["Cache-Control"] = "no-store"
    return response


@routed("ledger/entries", basename="ledger-entry")
class JournalEntryViewSet(viewsets.ReadOnlyModelViewSet):
    """The journal, newest first, each entry with its lines. Entries are never edited: finance
    reverses an entry, or proposes a manual entry (`manual-entries/`) that a second finance user
    posts."""

    serializer_class = JournalEntrySerializer
    filterset_class = JournalEntryFilter
    ordering_fields = ["date", "id"]
    write_roles = FINANCE_WRITERS

    def get_queryset(self):
        return selectors.entry_list()

    @extend_schema(request=EntryReverseSerializer, responses={201: JournalEntrySerializer})
    @action(detail=True, methods=["post"])
    def reverse(self, request, pk=None, format=None):
        """Post the mirror image of this entry, pointing at it. Once per entry (409 otherwise), never
        dated before the entry (400); a date in a closed period moves to the first open day."""
        entry: JournalEntry = self.get_object()
        data = EntryReverseSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        reversal = services.entry_reverse(
            entry=entry,
            date=data.validated_data.get("date") or timezone.localdate(),
            memo=data.validated_data["memo"],
            by=request.user,
        )
        return Response(JournalEntrySerializer(self.get_queryset().get(pk=reversal.pk)).data, status=201)


@routed("ledger/manual-entries", basename="ledger-manual-entry")
class ManualEntryViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Manual journal entries under four eyes, newest first. A finance user proposes one (nothing
    is posted); another finance user posts it (`post/`, 201 with the journal entry) or rejects it.
    The proposer may withdraw it (`reject/`). No line may touch a control account (400
    `control_account`)."""

    serializer_class = ManualEntryProposalSerializer
    write_roles = FINANCE_WRITERS

    def get_queryset(self):
        return selectors.manual_entry_list()

    @extend_schema(request=ManualEntrySerializer, responses={201: ManualEntryProposalSerializer})
    def create(self, request, *args, **kwargs):
        data = ManualEntrySerializer(data=request.data)
        data.is_valid(raise_exception=True)
        proposal = services.manual_entry_propose(
            date=data.validated_data["date"],
            memo=data.validated_data["memo"],
            lines=[
                services.Line(account=line["account"].code, debit=line["debit"], credit=line["credit"])
                for line in data.validated_data["lines"]
            ],
            by=request.user,
        )
        return Response(ManualEntryProposalSerializer(self.get_queryset().get(pk=proposal.pk)).data, status=201)

    @extend_schema(request=None, responses={201: JournalEntrySerializer})
    @action(detail=True, methods=["post"], url_path="post")
    def post_entry(self, request, pk=None, format=None):
        """Post the proposed entry: by a finance user other than the proposer (409 otherwise)."""
        proposal: ManualEntry = self.get_object()
        entry = services.manual_entry_post(proposal=proposal, by=request.user)
        return Response(JournalEntrySerializer(selectors.entry_list().get(pk=entry.pk)).data, status=201)

    @extend_schema(request=DecisionNoteSerializer, responses={200: ManualEntryProposalSerializer})
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None, format=None):
        proposal: ManualEntry = self.get_object()
        data = DecisionNoteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.manual_entry_reject(proposal=proposal, by=request.user, note=data.validated_data["note"])
        return Response(ManualEntryProposalSerializer(self.get_queryset().get(pk=proposal.pk)).data)


@routed("ledger/periods", basename="ledger-period")
class PeriodViewSet(viewsets.ReadOnlyModelViewSet):
    """The closes and reopenings of the books, newest first. `close/` closes the books through a
    date (finance); moving the lock date back takes a reopen request and a second finance user."""

    serializer_class = PeriodCloseSerializer
    write_roles = FINANCE_WRITERS

    def get_queryset(self):
        return selectors.period_close_list()

    @extend_schema(request=PeriodCloseInputSerializer, responses={201: PeriodCloseSerializer})
    @action(detail=False, methods=["post"])
    def close(self, request, format=None):
        """Close the books through `through` (a day before today, after the current lock date):
        nothing is posted on or before it afterwards (409 `period_closed`)."""
        data = PeriodCloseInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        event = services.period_close(through=data.validated_data["through"], by=request.user)
        return Response(PeriodCloseSerializer(self.get_queryset().get(pk=event.pk)).data, status=201)


@routed("ledger/reopen-requests", basename="ledger-reopen-request")
class ReopenRequestViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Requests to move the books' lock date back, newest first: one finance user asks (with a
    reason), another approves (`approve/`) or either rejects (`reject/`)."""

    serializer_class = ReopenRequestSerializer
    write_roles = FINANCE_WRITERS

    def get_queryset(self):
        return selectors.reopen_request_list()

    @extend_schema(request=ReopenRequestInputSerializer, responses={201: ReopenRequestSerializer})
    def create(self, request, *args, **kwargs):
        data = ReopenRequestInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        reopen = services.period_reopen_request(
            through=data.validated_data["through"], reason=data.validated_data["reason"], by=request.user
        )
        return Response(ReopenRequestSerializer(self.get_queryset().get(pk=reopen.pk)).data, status=201)

    @extend_schema(request=None, responses={201: PeriodCloseSerializer})
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None, format=None):
        """Approve the reopening: a finance user other than the one who asked (409 otherwise)."""
        reopen: ReopenRequest = self.get_object()
        event = services.period_reopen_approve(request=reopen, by=request.user)
        return Response(PeriodCloseSerializer(selectors.period_close_list().get(pk=event.pk)).data, status=201)

    @extend_schema(request=None, responses={200: ReopenRequestSerializer})
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None, format=None):
        reopen: ReopenRequest = self.get_object()
        services.period_reopen_reject(request=reopen, by=request.user)
        return Response(ReopenRequestSerializer(self.get_queryset().get(pk=reopen.pk)).data)


@routed("ledger/accounts", basename="ledger-account")
class AccountViewSet(viewsets.ReadOnlyModelViewSet):
    """The chart of accounts with debits, credits and balance as of a date (`?as_of=`)."""

    serializer_class = AccountBalanceSerializer
    lookup_field = "code"
    lookup_value_regex = r"[^/\x00]+"
    filterset_fields = ["type", "subledger", "is_active"]
    ordering_fields = ["code"]

    def get_queryset(self):
        params = AsOfSerializer(data=self.request.query_params)
        params.is_valid(raise_exception=True)
        return selectors.accounts_with_balances(as_of=params.validated_data["as_of"])

    @extend_schema(parameters=[AS_OF])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(parameters=[AS_OF])
    def retrieve(self, request, *args, **kwargs):
        return super().retrieve(request, *args, **kwargs)


class TrialBalanceApi(APIView):
    """Every account's net balance in the debit or credit column; the totals are equal."""

    @extend_schema(parameters=[AS_OF], responses=TrialBalanceSerializer)
    def get(self, request):
        params = AsOfSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        report = selectors.trial_balance(as_of=params.validated_data["as_of"])
        return Response(
            TrialBalanceSerializer(
                {
                    "as_of": report.as_of,
                    "rows": report.rows,
                    "total_debit": report.total_debit,
                    "total_credit": report.total_credit,
                    "balanced": report.balanced,
                }
            ).data
        )


def export_selection(query_params) -> LineExport:
    params = LedgerExportQuerySerializer(data=query_params)
    params.is_valid(raise_exception=True)
    data = params.validated_data
    return LineExport(
        account=data.get("account"),
        subledger=data.get("facility"),
        date_from=data.get("date_from"),
        date_to=data.get("date_to"),
    )


def export_filename(selection: LineExport, extension: str) -> str:
    parts = ["journal"]
    if selection.subledger:
        parts.append(selection.subledger)
    if selection.account is not None:
        parts.append(selection.account.code)
    if selection.date_from:
        parts.append(f"from-{selection.date_from.isoformat()}")
    if selection.date_to:
        parts.append(f"to-{selection.date_to.isoformat()}")
    return "_".join(parts) + f".{extension}"


EXPORT_PARAMETERS = [
    OpenApiParameter("facility", str, description="Facility code: entries touching its accounts."),
    OpenApiParameter("account", str, description="Account code: its lines only, with a running balance."),
    OpenApiParameter("date_from", OpenApiTypes.DATE),
    OpenApiParameter("date_to", OpenApiTypes.DATE),
]


class LedgerCsvExportApi(FileDownloadMixin, APIView):
    """Journal lines as CSV, streamed (flat memory however large the ledger)."""

    @extend_schema(parameters=EXPORT_PARAMETERS, responses={(200, "text/csv"): OpenApiTypes.BINARY})
    def get(self, request):
        selection = export_selection(request.query_params)
        return csv_response(lines_csv(selection), export_filename(selection, "csv"), request=request, what=JOURNAL)


class LedgerXlsxExportApi(FileDownloadMixin, APIView):
    """Journal lines as an Excel workbook (openpyxl write-only mode)."""

    file_renderer = XlsxRenderer

    @extend_schema(parameters=EXPORT_PARAMETERS, responses={(200, XLSX_TYPE): OpenApiTypes.BINARY})
    def get(self, request):
        selection = export_selection(request.query_params)
        return xlsx_response(lines_xlsx(selection), export_filename(selection, "xlsx"), request=request, what=JOURNAL)
