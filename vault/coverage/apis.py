from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from vault.accounts.permissions import STAFF_READERS, acting_user
from vault.accounts.roles import Role
from vault.core.errors import InvalidInput
from vault.core.routers import routed
from vault.coverage import selectors, services
from vault.coverage.filters import AlertFilter, ForecastFilter, HistoryFilter, InboundFilter, SnapshotFilter
from vault.coverage.serializers import (
    AlertSerializer,
    CheckSerializer,
    ForecastRowSerializer,
    ForecastSerializer,
    ForecastUploadSerializer,
    ForecastVersionSerializer,
    InboundSerializer,
    InboundUpdateSerializer,
    RunSerializer,
    ScenarioResultSerializer,
    ScenarioSerializer,
    SnapshotSerializer,
)
from vault.inventory.models import Material

# Manufacturers read coverage, forecasts and alerts of the materials they hold entitlements in.
READERS = (*STAFF_READERS, Role.MANUFACTURER)
MANAGER = (Role.MANAGER,)
CODE_REGEX = r"[A-Z0-9][A-Z0-9._-]*"  # Material.code's format: anything else is a 404


@routed("forecasts", basename="forecast")
class ForecastViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Current consumption forecasts (`?include_superseded=true` for every version's rows).
    POST one row as JSON, or a CSV file as multipart field `file` (all or nothing). A
    manufacturer sees its own organization's rows and the totals (rows of no organization),
    never another participant's forecast."""

    serializer_class = ForecastSerializer
    filterset_class = ForecastFilter
    read_roles = READERS
    write_roles = MANAGER
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    def get_queryset(self):
        include = self.request.query_params.get("include_superseded", "").lower() in {"1", "true", "yes"}
        return selectors.forecast_list(user=self.request.user, include_superseded=include)

    @extend_schema(request=ForecastRowSerializer, responses={201: ForecastVersionSerializer})
    def create(self, request, *args, **kwargs):
        if "file" in request.FILES:
            data: serializers.Serializer = ForecastUploadSerializer(data=request.data)
            data.is_valid(raise_exception=True)
            upload = data.validated_data["file"]
            version = services.forecast_import_csv(
                file=upload.file,
                by=acting_user(request),
                source=f"csv:{upload.name}"[:200],
                note=data.validated_data["note"],
            )
        else:
            data = ForecastRowSerializer(data=request.data)
            data.is_valid(raise_exception=True)
            row = data.validated_data
            organization = row["organization"]
            version = services.forecast_upload(
                rows=[
                    services.ForecastRow(
                        material_id=row["material"].pk,
                        organization_id=organization.pk if organization else None,
                        month=row["month"],
                        quantity=row["quantity"],
                    )
                ],
                by=acting_user(request),
                source="api",
                note=row["note"],
                replace="month",
            )
        return Response(ForecastVersionSerializer(version).data, status=status.HTTP_201_CREATED)


@routed("forecast-versions", basename="forecast-version")
class ForecastVersionViewSet(viewsets.ReadOnlyModelViewSet):
    """Forecast uploads, newest first."""

    serializer_class = ForecastVersionSerializer

    def get_queryset(self):
        return selectors.forecast_version_list()


@routed("inbound", basename="inbound")
class InboundViewSet(viewsets.ModelViewSet):
    """Confirmed future receipts, counted in the forward walk from their expected date."""

    serializer_class = InboundSerializer
    filterset_class = InboundFilter
    write_roles = MANAGER
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self):
        return selectors.inbound_list()

    def perform_create(self, serializer):
        serializer.instance = services.inbound_create(by=acting_user(self.request), **serializer.validated_data)

    @extend_schema(request=InboundUpdateSerializer, responses=InboundSerializer)
    def partial_update(self, request, *args, **kwargs):
        inbound = self.get_object()
        data = InboundUpdateSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        inbound = services.inbound_update(inbound=inbound, by=acting_user(request), **data.validated_data)
        return Response(InboundSerializer(selectors.inbound_list().get(pk=inbound.pk)).data)

    def perform_destroy(self, instance):
        services.inbound_delete(inbound=instance, by=acting_user(self.request))


@routed("coverage", basename="coverage")
class CoverageViewSet(viewsets.ReadOnlyModelViewSet):
    """The latest coverage snapshot of each material, worst first; `{code}/history/` for one
    material's snapshots over time; `scenario/` for what-if figures (nothing saved)."""

    serializer_class = SnapshotSerializer
    filterset_class = SnapshotFilter
    read_roles = READERS
    write_roles = MANAGER
    action_roles = {"scenario": STAFF_READERS, "check": MANAGER}
    lookup_field = "material__code"
    lookup_url_kwarg = "code"
    lookup_value_regex = CODE_REGEX
    ordering_fields = ["forward_days", "trailing_days", "usable_stock"]

    def get_queryset(self):
        return selectors.snapshot_latest_list(user=self.request.user)

    def _material(self, code: str) -> Material:
        """The material, if this user may see its coverage: else the same 404 as a missing one."""
        material = Material.objects.filter(code=code).first()
        if material is None or not selectors.material_visible(user=self.request.user, material=material):
            raise Http404
        return material

    @extend_schema(
        responses=SnapshotSerializer(many=True),
        parameters=[OpenApiParameter("date_from", str), OpenApiParameter("date_to", str)],
    )
    @action(detail=True, methods=["get"], filterset_class=HistoryFilter, ordering_fields=["id", "as_of"])
    def history(self, request, code=None, format=None):
        """Snapshots of one material, newest first."""
        material = self._material(code)
        queryset = self.filter_queryset(selectors.snapshot_history(material=material))
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(SnapshotSerializer(page, many=True).data)

    @extend_schema(request=ScenarioSerializer, responses=ScenarioResultSerializer(many=True))
    @action(detail=False, methods=["post"], filterset_class=None)
    def scenario(self, request, format=None):
        """What if demand rises, inbound is cut, or extra drawdowns are approved? Returns the
        same figures as a check for each material; nothing is saved."""
        data = ScenarioSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        figures = services.coverage_scenario(
            materials=values.get("materials"),
            demand_change_pct=values["demand_change_pct"],
            inbound_cut_pct=values["inbound_cut_pct"],
            extra_drawdowns=values.get("extra_drawdowns"),
            visible_ids=selectors.visible_material_ids(user=request.user),
        )
        return Response(
            {
                "demand_change_pct": str(values["demand_change_pct"]),
                "inbound_cut_pct": str(values["inbound_cut_pct"]),
                "results": ScenarioResultSerializer(figures, many=True).data,
            }
        )

    @extend_schema(request=CheckSerializer, responses={201: RunSerializer})
    @action(detail=False, methods=["post"], filterset_class=None)
    def check(self, request, format=None):
        """Run the coverage check now (all materials, or the given codes) and store its snapshots."""
        data = CheckSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        codes = data.validated_data.get("materials")
        ids = None
        if codes:
            found = dict(Material.objects.filter(code__in=codes).values_list("code", "pk"))
            unknown = sorted(set(codes) - set(found))
            if unknown:
                raise InvalidInput(
                    f"Unknown material(s): {', '.join(unknown)}.", field="materials", code="material_unknown"
                )
            ids = list(found.values())
        run = services.coverage_check(material_ids=ids, trigger=f"manual by {request.user.username}")
        return Response(RunSerializer(run).data, status=status.HTTP_201_CREATED)


@routed("alerts", basename="alert")
class AlertViewSet(viewsets.ReadOnlyModelViewSet):
    """Coverage alerts, newest first; `?open=true` for the open ones."""

    serializer_class = AlertSerializer
    filterset_class = AlertFilter
    read_roles = READERS

    def get_queryset(self):
        return selectors.alert_list(user=self.request.user)
