"""Financing API: facilities, tranches and their workflow, repayments, interest, fees, market
prices and the valuation of the holdings. Finance writes; managers and auditors read;
manufacturers see none of it (403)."""

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from vault.accounts.permissions import acting_user
from vault.accounts.roles import Role
from vault.core.errors import InvalidInput, NotFound
from vault.core.routers import routed
from vault.financing import selectors, services
from vault.financing.exports import statement_csv, statement_download, statement_filename, statement_xlsx
from vault.financing.filters import (
    FacilityFilter,
    InterestAccrualFilter,
    InterestPaymentFilter,
    PricePointFilter,
    RepaymentFilter,
    TrancheFilter,
)
from vault.financing.models import Facility, PricePoint, Tranche
from vault.financing.serializers import (
    FacilitySerializer,
    FacilityUpdateSerializer,
    FeeReceiptSerializer,
    InterestAccrualSerializer,
    InterestPaymentSerializer,
    InterestRateSerializer,
    PriceImportResultSerializer,
    PriceImportSerializer,
    PriceImportTextSerializer,
    PricePointSerializer,
    RateSetSerializer,
    RepaymentSerializer,
    StatementQuerySerializer,
    StatementSerializer,
    TrancheCancelSerializer,
    TrancheDisburseSerializer,
    TrancheSerializer,
    ValuationQuerySerializer,
    ValuationSerializer,
)
from vault.ledger.apis import FileDownloadMixin, XlsxRenderer, csv_response, xlsx_response

FINANCE = (Role.FINANCE,)


class FinanceWrites:
    """Staff roles read; only finance writes."""

    write_roles = FINANCE


class ServiceCreateViewSet(FinanceWrites, mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Rows listed and read; POST parses the body with `serializer_class`, writes through
    `create_service` and answers 201 with the row written, rendered by `serializer_class`."""

    def create_service(self, request, data: dict) -> Any:
        raise NotImplementedError

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer_class()
        body = serializer(data=request.data)
        body.is_valid(raise_exception=True)
        created = self.create_service(request, body.validated_data)
        return Response(serializer(created).data, status=status.HTTP_201_CREATED)


@routed("facilities", basename="facility")
class FacilityViewSet(ServiceCreateViewSet):
    """Loan and private capital facilities, referenced by code. `disbursed`, `outstanding` and
    `undrawn` are read-only: they move with tranches and repayments."""

    serializer_class = FacilitySerializer
    filterset_class = FacilityFilter
    lookup_field = "code"
    lookup_value_regex = r"[^/\x00]+"
    ordering_fields = ["code", "commitment"]
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        return selectors.facility_list()

    def _fresh(self, facility: Facility) -> Facility:
        """The facility read again with its accounts and rate schedule."""
        return selectors.facility_list().get(pk=facility.pk)

    def create_service(self, request, data):
        return self._fresh(services.facility_create(by=request.user, **data))

    @extend_schema(request=FacilityUpdateSerializer, responses=FacilitySerializer)
    def partial_update(self, request, *args, **kwargs):
        facility = self.get_object()
        unknown = set(request.data) - set(FacilityUpdateSerializer().fields)
        if unknown:
            field = sorted(unknown)[0]
            raise InvalidInput(
                f"{field} cannot be changed here (rates: POST .../rates/; totals move with tranches).",
                field=field,
                code="field_not_editable",
            )
        data = FacilityUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        facility = services.facility_update(facility=facility, by=request.user, **data.validated_data)
        return Response(FacilitySerializer(self._fresh(facility)).data)

    @extend_schema(request=RateSetSerializer, responses={201: InterestRateSerializer})
    @action(detail=True, methods=["post"])
    def rates(self, request, code=None, format=None):
        """Add a rate change to the loan's schedule, in force from `effective_from`."""
        facility = self.get_object()
        data = RateSetSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        rate = services.facility_rate_set(facility=facility, by=request.user, **data.validated_data)
        return Response(InterestRateSerializer(rate).data, status=status.HTTP_201_CREATED)


STATEMENT_PARAMETERS = [
    OpenApiParameter("period", str, enum=["month", "quarter"]),
    OpenApiParameter("date_from", OpenApiTypes.DATE, description="Default: start of availability."),
    OpenApiParameter("date_to", OpenApiTypes.DATE, description="Default: today."),
]


def _statement(request, code: str):
    facility = selectors.facility_list().filter(code=code).first() if "\x00" not in code else None
    if facility is None:
        raise NotFound(f"No facility {code}.", field="facility", code="facility_not_found")
    params = StatementQuerySerializer(data=request.query_params)
    params.is_valid(raise_exception=True)
    return selectors.facility_statement(facility=facility, **params.validated_data)


class FacilityStatementApi(APIView):
    """Per month or quarter: opening balance, disbursements, repayments, closing balance, and
    interest accrued and paid, as the ledger shows them."""

    @extend_schema(parameters=STATEMENT_PARAMETERS, responses=StatementSerializer)
    def get(self, request, code: str):
        return Response(StatementSerializer(_statement(request, code)).data)


class FacilityStatementCsvApi(FileDownloadMixin, APIView):
    """The facility statement as CSV."""

    @extend_schema(parameters=STATEMENT_PARAMETERS, responses={(200, "text/csv"): OpenApiTypes.BINARY})
    def get(self, request, code: str):
        statement = _statement(request, code)
        return csv_response(
            statement_csv(statement),
            statement_filename(statement, "csv"),
            **statement_download(statement, request=request),
        )


class FacilityStatementXlsxApi(FileDownloadMixin, APIView):
    """The facility statement as an Excel workbook."""

    file_renderer = XlsxRenderer

    @extend_schema(parameters=STATEMENT_PARAMETERS, responses={(200, XlsxRenderer.media_type): OpenApiTypes.BINARY})
    def get(self, request, code: str):
        statement = _statement(request, code)
        return xlsx_response(
            statement_xlsx(statement),
            statement_filename(statement, "xlsx"),
            **statement_download(statement, request=request),
        )


@routed("tranches", basename="tranche")
class TrancheViewSet(ServiceCreateViewSet):
    """Tranches: POST plans one; then approve (another finance user), disburse (optional `date`;
    above the threshold, confirmed by another finance user) or cancel."""

    serializer_class = TrancheSerializer
    filterset_class = TrancheFilter
    ordering_fields = ["expected_date", "id", "amount"]

    def get_queryset(self):
        return selectors.tranche_list()

    def create_service(self, request, data):
        return services.tranche_plan(by=request.user, **data)

    @extend_schema(request=None, responses=TrancheSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None, format=None):
        """Approve a planned tranche (a finance user other than its planner): it reserves headroom."""
        tranche: Tranche = self.get_object()
        return Response(TrancheSerializer(services.tranche_approve(tranche=tranche, by=acting_user(request))).data)

    @extend_schema(request=TrancheDisburseSerializer, responses={200: TrancheSerializer, 202: TrancheSerializer})
    @action(detail=True, methods=["post"])
    def disburse(self, request, pk=None, format=None):
        """Disburse an approved tranche: Dr cash / Cr loan payable (or investor capital), 200.
        Above the second-approval threshold nothing is posted yet: 202 with the request pending
        (`disbursement_pending`), which another finance user confirms (`.../disburse/confirm/`)."""
        tranche: Tranche = self.get_object()
        data = TrancheDisburseSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        tranche = services.tranche_disburse(
            tranche=tranche, by=acting_user(request), date=data.validated_data.get("date")
        )
        pending = status.HTTP_202_ACCEPTED if tranche.disbursement_pending else status.HTTP_200_OK
        return Response(TrancheSerializer(tranche).data, status=pending)

    @extend_schema(request=None, responses=TrancheSerializer)
    @action(detail=True, methods=["post"], url_path="disburse/confirm")
    def disburse_confirm(self, request, pk=None, format=None):
        """Confirm a disbursement another finance user requested: it posts on the requested date."""
        tranche: Tranche = self.get_object()
        return Response(
            TrancheSerializer(services.tranche_disburse_confirm(tranche=tranche, by=acting_user(request))).data
        )

    @extend_schema(request=TrancheCancelSerializer, responses=TrancheSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None, format=None):
        tranche: Tranche = self.get_object()
        data = TrancheCancelSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        tranche = services.tranche_cancel(tranche=tranche, by=request.user, **data.validated_data)
        return Response(TrancheSerializer(tranche).data)


@routed("repayments", basename="repayment")
class RepaymentViewSet(ServiceCreateViewSet):
    """Principal repaid (or capital returned): Dr loan payable / Cr cash."""

    serializer_class = RepaymentSerializer
    filterset_class = RepaymentFilter

    def get_queryset(self):
        return selectors.repayment_list()

    def create_service(self, request, data):
        return services.repayment_create(by=request.user, **data)


@routed("interest-payments", basename="interest-payment")
class InterestPaymentViewSet(ServiceCreateViewSet):
    """Accrued interest paid: Dr interest payable / Cr cash."""

    serializer_class = InterestPaymentSerializer
    filterset_class = InterestPaymentFilter

    def get_queryset(self):
        return selectors.interest_payment_list()

    def create_service(self, request, data):
        return services.interest_pay(by=request.user, **data)


@routed("interest-accruals", basename="interest-accrual")
class InterestAccrualViewSet(viewsets.ReadOnlyModelViewSet):
    """The daily interest accruals (written by the daily task only)."""

    serializer_class = InterestAccrualSerializer
    filterset_class = InterestAccrualFilter

    def get_queryset(self):
        return selectors.accrual_list()


@routed("fees", basename="fee")
class FeeReceiptViewSet(ServiceCreateViewSet):
    """Fees received from participants: Dr cash / Cr fee income."""

    serializer_class = FeeReceiptSerializer

    def get_queryset(self):
        return selectors.fee_list()

    def create_service(self, request, data):
        return services.fee_receive(by=request.user, **data).fee_receipt


@routed("price-points", basename="price-point")
class PricePointViewSet(ServiceCreateViewSet):
    """Market prices per material and day, from named sources; `import` takes a CSV."""

    serializer_class = PricePointSerializer
    filterset_class = PricePointFilter
    ordering_fields = ["date", "material__code"]

    def get_queryset(self):
        return selectors.price_point_list()

    def create_service(self, request, data):
        return services.price_point_create(by=request.user, **data)

    @extend_schema(
        request={"multipart/form-data": PriceImportSerializer, "application/json": PriceImportTextSerializer},
        responses={201: PriceImportResultSerializer},
    )
    @action(detail=False, methods=["post"], url_path="import", parser_classes=[MultiPartParser, FormParser, JSONParser])
    def import_csv(self, request, format=None):
        """Import prices from CSV (material,date,usd_per_kg,source), uploaded as `file` or sent as
        JSON `text`; all rows or none, bad rows named by line."""
        if "file" in request.FILES:
            data: serializers.Serializer = PriceImportSerializer(data=request.data)
            data.is_valid(raise_exception=True)
            try:
                text = data.validated_data["file"].read().decode("utf-8-sig")
            except UnicodeDecodeError:
                raise InvalidInput("The file is not UTF-8 text.", field="file", code="file_not_utf8")
        else:
            data = PriceImportTextSerializer(data=request.data)
            data.is_valid(raise_exception=True)
            text = data.validated_data["text"]
        result = services.price_points_import(
            text=text, by=request.user, default_source=data.validated_data["default_source"]
        )
        return Response(PriceImportResultSerializer(result).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=PricePointSerializer)
    @action(detail=True, methods=["post"])
    def confirm(self, request, pk=None, format=None):
        """Confirm a pending price version (a finance user other than its proposer): in force from now."""
        price_point: PricePoint = self.get_object()
        confirmed = services.price_point_confirm(price_point=price_point, by=acting_user(request))
        return Response(PricePointSerializer(confirmed).data)

    @extend_schema(request=None, responses=PricePointSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None, format=None):
        """Reject a pending price version (a finance user other than its proposer)."""
        price_point: PricePoint = self.get_object()
        rejected = services.price_point_reject(price_point=price_point, by=acting_user(request))
        return Response(PricePointSerializer(rejected).data)


class ValuationApi(APIView):
    """The holdings per material at cost, at the latest market price and at the floor, as of a
    date, with the unrealised gain or loss against cost."""

    @extend_schema(
        parameters=[
            OpenApiParameter("as_of", OpenApiTypes.DATE, description="Default: today."),
            OpenApiParameter("source", str, description="Only prices from this source."),
            OpenApiParameter(
                "known_at",
                OpenApiTypes.DATETIME,
                description="The prices as known at this moment (default: now): later corrections ignored.",
            ),
        ],
        responses=ValuationSerializer,
    )
    def get(self, request):
        params = ValuationQuerySerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        valuation = selectors.holdings_valuation(
            as_of=params.validated_data["as_of"],
            source=params.validated_data["source"] or None,
            known_at=params.validated_data["known_at"],
        )
        return Response(ValuationSerializer(valuation).data)
