"""Drawdown API. Views parse input, call one service and shape the output; querysets come from
the selectors, which narrow a manufacturer to its own organization (others' rows are 404)."""

from collections.abc import Callable

from django.db.models import Prefetch
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from vault.accounts.permissions import STAFF_READERS
from vault.accounts.roles import Role
from vault.core.routers import routed
from vault.drawdowns import selectors, services
from vault.drawdowns.filters import DisruptionFilter, DrawdownRequestFilter, EntitlementFilter, ObligationFilter
from vault.drawdowns.idempotency import HEADER, idempotent
from vault.drawdowns.models import DrawdownRequest, DrawdownTransition
from vault.drawdowns.serializers import (
    ApproveSerializer,
    CommentSerializer,
    DisruptionSerializer,
    DrawdownRequestCreateSerializer,
    DrawdownRequestDetailSerializer,
    DrawdownRequestSerializer,
    EntitlementSerializer,
    FeeReceiveSerializer,
    ObligationSerializer,
    RejectSerializer,
    ReplenishmentSerializer,
    ReplenishSerializer,
)

READERS = (*STAFF_READERS, Role.MANUFACTURER)
MANAGER = (Role.MANAGER,)


def _parse(serializer_class, request):
    data = serializer_class(data=request.data)
    data.is_valid(raise_exception=True)
    return data.validated_data


def _request_action(serializer_class):
    """A POST action on one request with a `serializer_class` body, answering the request's detail."""
    as_action = action(detail=True, methods=["post"])
    schema = extend_schema(request=serializer_class, responses=DrawdownRequestDetailSerializer)
    return lambda view: schema(as_action(view))


@routed("drawdown-requests", basename="drawdown-request")
class DrawdownRequestViewSet(viewsets.ReadOnlyModelViewSet):
    """Drawdown requests. Manufacturers create, submit and cancel their organization's requests
    (and see only those); managers approve (in full or in part), reject and fulfil."""

    read_roles = READERS
    write_roles = MANAGER
    action_roles = {
        "create": (Role.MANUFACTURER,),
        "submit": (Role.MANUFACTURER,),
        "cancel": (Role.MANUFACTURER, Role.MANAGER),
    }
    filterset_class = DrawdownRequestFilter
    ordering_fields = ["id", "needed_by", "created_at", "quantity"]

    def get_queryset(self):
        queryset = selectors.drawdown_list(user=self.request.user)
        if self.action == "retrieve":
            queryset = queryset.prefetch_related(
                Prefetch("transitions", queryset=DrawdownTransition.objects.select_related("by").order_by("id"))
            )
        return queryset

    def get_serializer_class(self):
        return DrawdownRequestDetailSerializer if self.action == "retrieve" else DrawdownRequestSerializer

    def _respond(self, request_obj, code=status.HTTP_200_OK) -> Response:
        fresh = (
            selectors.drawdown_list(user=self.request.user).prefetch_related("transitions__by").get(pk=request_obj.pk)
        )
        return Response(DrawdownRequestDetailSerializer(fresh).data, status=code)

    @extend_schema(
        request=DrawdownRequestCreateSerializer,
        responses={201: DrawdownRequestDetailSerializer},
        parameters=[
            OpenApiParameter(HEADER, str, OpenApiParameter.HEADER, description="Replays return the first response.")
        ],
    )
    def create(self, request, *args, **kwargs):
        """Create a draft (or, with `submit: true`, a submitted) request for your organization."""

        def handler() -> Response:
            data = _parse(DrawdownRequestCreateSerializer, request)
            created = services.drawdown_create(by=request.user, **data)
            return self._respond(created, status.HTTP_201_CREATED)

        return idempotent(request, handler)

    def _decide(self, request, serializer_class, service: Callable[..., DrawdownRequest]) -> Response:
        """Parse the body with `serializer_class`, call `service` on the request in the URL."""
        data = _parse(serializer_class, request)
        return self._respond(service(request=self.get_object(), by=request.user, **data))

    @_request_action(CommentSerializer)
    def submit(self, request, pk=None, format=None):
        return self._decide(request, CommentSerializer, services.drawdown_submit)

    @_request_action(ApproveSerializer)
    def approve(self, request, pk=None, format=None):
        """Approve all requested, or `quantity` kg (partial); reserves stock oldest lots first."""
        return self._decide(request, ApproveSerializer, services.drawdown_approve)

    @_request_action(RejectSerializer)
    def reject(self, request, pk=None, format=None):
        return self._decide(request, RejectSerializer, services.drawdown_reject)

    @_request_action(CommentSerializer)
    def fulfil(self, request, pk=None, format=None):
        """Issue the reserved stock and open the replenishment obligation."""
        return self._decide(request, CommentSerializer, lambda **kwargs: services.drawdown_fulfil(**kwargs).request)

    @_request_action(CommentSerializer)
    def cancel(self, request, pk=None, format=None):
        return self._decide(request, CommentSerializer, services.drawdown_cancel)


@routed("entitlements", basename="entitlement")
class EntitlementViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Participation agreements with what remains of each entitlement. Managers create them."""

    serializer_class = EntitlementSerializer
    read_roles = READERS
    write_roles = MANAGER
    action_roles = {"fee": (Role.MANAGER, Role.FINANCE)}
    filterset_class = EntitlementFilter

    def get_queryset(self):
        return selectors.entitlement_list(user=self.request.user)

    def create(self, request, *args, **kwargs):
        data = _parse(EntitlementSerializer, request)
        agreement = services.agreement_create(by=request.user, **data)
        return Response(self.get_serializer(self.get_queryset().get(pk=agreement.pk)).data, status=201)

    @extend_schema(request=FeeReceiveSerializer, responses=EntitlementSerializer)
    @action(detail=True, methods=["post"])
    def fee(self, request, pk=None, format=None):
        """Record the upfront fee as received (Dr cash / Cr fee income), once."""
        data = _parse(FeeReceiveSerializer, request)
        agreement = self.get_object()
        services.agreement_fee_receive(agreement=agreement, by=request.user, **data)
        return Response(self.get_serializer(self.get_queryset().get(pk=agreement.pk)).data)


@routed("obligations", basename="obligation")
class ObligationViewSet(viewsets.ReadOnlyModelViewSet):
    """Replenishment obligations of fulfilled drawdowns. Managers record replenishments."""

    serializer_class = ObligationSerializer
    read_roles = READERS
    write_roles = MANAGER
    filterset_class = ObligationFilter
    ordering_fields = ["due_on", "id"]

    def get_queryset(self):
        return selectors.obligation_list(user=self.request.user)

    @extend_schema(request=ReplenishSerializer, responses={201: ReplenishmentSerializer})
    @action(detail=True, methods=["post"])
    def replenish(self, request, pk=None, format=None):
        """Receive material in kind against the obligation (a new lot, against the receivable)."""
        data = _parse(ReplenishSerializer, request)
        replenishment = services.obligation_replenish(obligation=self.get_object(), by=request.user, **data)
        return Response(ReplenishmentSerializer(replenishment).data, status=status.HTTP_201_CREATED)


@routed("disruptions", basename="disruption")
class DisruptionViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Declared supply disruptions; while one is active a participant may draw its full
    entitlement without a replenishment commitment date."""

    serializer_class = DisruptionSerializer
    read_roles = READERS
    write_roles = MANAGER
    filterset_class = DisruptionFilter

    def get_queryset(self):
        return selectors.disruption_list()

    def create(self, request, *args, **kwargs):
        data = _parse(DisruptionSerializer, request)
        event = services.disruption_declare(by=request.user, **data)
        return Response(self.get_serializer(self.get_queryset().get(pk=event.pk)).data, status=201)
