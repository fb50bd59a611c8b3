from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from vault.accounts.permissions import STAFF_READERS, acting_user
from vault.accounts.roles import Role
from vault.core.errors import InvalidInput
from vault.core.routers import routed
from vault.inventory import selectors, services
from vault.inventory.filters import LotFilter, MovementFilter, PositionFilter
from vault.inventory.models import Movement
from vault.inventory.serializers import (
    LotSerializer,
    LotStatusSerializer,
    MaterialSerializer,
    MovementCreateSerializer,
    MovementReverseSerializer,
    MovementSerializer,
    PositionSerializer,
    SiteSerializer,
)

# Manufacturers see the catalogue of materials and sites, not the stock.
CATALOGUE_READERS = (*STAFF_READERS, Role.MANUFACTURER)


class _CatalogueViewSet(viewsets.ModelViewSet):
    """A catalogue row addressed by its code, created by `services.<row>_create` and changed by
    `services.<row>_update` (`row` names the service and its argument); never deleted here."""

    row: str
    lookup_field = "code"
    read_roles = CATALOGUE_READERS
    http_method_names = ["get", "post", "patch", "head", "options"]

    def perform_create(self, serializer):
        create = getattr(services, f"{self.row}_create")
        serializer.instance = create(by=acting_user(self.request), **serializer.validated_data)

    def perform_update(self, serializer):
        update = getattr(services, f"{self.row}_update")
        serializer.instance = update(
            **{self.row: serializer.instance}, by=acting_user(self.request), **serializer.validated_data
        )


@routed("materials", basename="material")
class MaterialViewSet(_CatalogueViewSet):
    """Materials held in the reserve, referenced by code (e.g. NDPR-OX)."""

    row = "material"
    serializer_class = MaterialSerializer
    search_fields = ["code", "name"]

    def get_queryset(self):
        return selectors.material_list()


@routed("sites", basename="site")
class SiteViewSet(_CatalogueViewSet):
    """Storage depots, referenced by code."""

    row = "site"
    serializer_class = SiteSerializer

    def get_queryset(self):
        return selectors.site_list()


@routed("lots", basename="lot")
class LotViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Lots. `on_hand` and `reserved` are read-only: quantities change only through movements."""

    serializer_class = LotSerializer
    filterset_class = LotFilter
    ordering_fields = ["id", "received_date", "on_hand"]

    def get_queryset(self):
        return selectors.lot_list()

    def perform_create(self, serializer):
        serializer.instance = services.lot_create(by=acting_user(self.request), **serializer.validated_data)

    @extend_schema(request=LotStatusSerializer, responses=LotSerializer)
    @action(detail=True, methods=["post"])
    def status(self, request, pk=None, format=None):
        """Put a lot in quarantine, mark it damaged, or make it available again."""
        lot = self.get_object()
        data = LotStatusSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        lot = services.lot_set_status(lot=lot, by=acting_user(request), **data.validated_data)
        return Response(LotSerializer(lot).data)


@routed("movements", basename="movement")
class MovementViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """The append-only stock ledger. POST records a receipt, transfer, adjustment, write-off or
    release; a mistake is undone with `reverse`, never by editing."""

    filterset_class = MovementFilter
    ordering_fields = ["id"]
    http_method_names = ["get", "post", "put", "patch", "delete", "head", "options"]

    def get_queryset(self):
        return selectors.movement_list()

    def get_serializer_class(self):
        return MovementCreateSerializer if self.action == "create" else MovementSerializer

    @extend_schema(request=MovementCreateSerializer, responses={201: MovementSerializer})
    def create(self, request, *args, **kwargs):
        data = MovementCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        movement = services.movement_create(by=acting_user(request), **data.validated_data)
        return Response(MovementSerializer(movement).data, status=status.HTTP_201_CREATED)

    @staticmethod
    def _immutable(done: str) -> InvalidInput:
        return InvalidInput(
            f"Posted movements cannot be {done}; post a reversal instead.",
            field="non_field_errors",
            code="movement_immutable",
        )

    @extend_schema(exclude=True)
    def update(self, request, *args, **kwargs):
        raise self._immutable("edited")

    @extend_schema(exclude=True)
    def partial_update(self, request, *args, **kwargs):
        return self.update(request, *args, **kwargs)

    @extend_schema(exclude=True)
    def destroy(self, request, *args, **kwargs):
        raise self._immutable("deleted")

    @extend_schema(request=MovementReverseSerializer, responses={201: MovementSerializer})
    @action(detail=True, methods=["post"])
    def reverse(self, request, pk=None, format=None):
        """Post the opposite movement (both legs for a transfer) and reverse its journal entry."""
        movement: Movement = self.get_object()
        data = MovementReverseSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        reversal = services.movement_reverse(movement=movement, by=acting_user(request), **data.validated_data)
        return Response(MovementSerializer(reversal).data, status=status.HTTP_201_CREATED)


@routed("positions", basename="position")
class PositionViewSet(viewsets.ReadOnlyModelViewSet):
    """On hand, reserved and available per material and site, read from maintained balances."""

    serializer_class = PositionSerializer
    filterset_class = PositionFilter
    lookup_field = "pk"

    def get_queryset(self):
        return selectors.position_list()
