"""Reads for drawdowns. A manufacturer only ever sees its own organization's rows: every
list here takes the user and narrows the queryset for manufacturers."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, TypedDict

from django.db.models import (
    Case,
    DecimalField,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Least
from django.utils import timezone

from vault.accounts.permissions import is_manufacturer
from vault.drawdowns.domain import QUANTUM
from vault.drawdowns.models import (
    DisruptionEvent,
    DrawdownRequest,
    DrawdownTransition,
    ParticipationAgreement,
    ReplenishmentObligation,
    Reservation,
)
from vault.inventory.models import Lot, Position

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations


class Remaining(TypedDict):
    pending: Decimal
    outstanding: Decimal
    remaining: Decimal


ZERO = Decimal("0")
_QTY: DecimalField = DecimalField(max_digits=18, decimal_places=3)

# What counts against an entitlement (see docs/drawdowns.md): requests waiting for a decision
# (submitted, at their requested quantity; awaiting a second approval, at the first approval's
# quantity, the most a second manager can approve), approved and not yet fulfilled (at the
# approved quantity), and what was drawn and not yet replenished. Drafts, rejected and cancelled
# requests count for nothing. A replenishment pays the premium first, so the drawn quantity
# outstanding is the smaller of the drawn quantity and what is still due.
PENDING_STATUSES = (
    DrawdownRequest.Status.SUBMITTED,
    DrawdownRequest.Status.AWAITING_SECOND_APPROVAL,
    DrawdownRequest.Status.APPROVED,
)


def _pending_subquery() -> Subquery:
    pending = (
        DrawdownRequest.objects.filter(
            organization=OuterRef("organization"), material=OuterRef("material"), status__in=PENDING_STATUSES
        )
        .order_by()
        .values("organization")
        .annotate(
            total=Sum(
                Case(
                    When(status=DrawdownRequest.Status.APPROVED, then=F("approved_quantity")),
                    When(status=DrawdownRequest.Status.AWAITING_SECOND_APPROVAL, then=F("first_approved_quantity")),
                    default=F("quantity"),
                    output_field=_QTY,
                )
            )
        )
        .values("total")
    )
    return Subquery(pending, output_field=_QTY)


def _outstanding_subquery() -> Subquery:
    outstanding = (
        ReplenishmentObligation.objects.filter(
            organization=OuterRef("organization"),
            material=OuterRef("material"),
            status=ReplenishmentObligation.Status.OPEN,
        )
        .order_by()
        .values("organization")
        .annotate(total=Sum(Least(F("drawn_quantity"), F("quantity_due") - F("replenished_quantity"))))
        .values("total")
    )
    return Subquery(outstanding, output_field=_QTY)


def with_remaining(
    queryset: QuerySet[ParticipationAgreement],
) -> QuerySet[WithAnnotations[ParticipationAgreement, Remaining]]:
    """Annotate agreements with `pending`, `outstanding` and `remaining` (kg), in the same query."""
    return queryset.annotate(
        pending=Coalesce(_pending_subquery(), Value(ZERO), output_field=_QTY),
        outstanding=Coalesce(_outstanding_subquery(), Value(ZERO), output_field=_QTY),
    ).annotate(remaining=F("quantity") - F("pending") - F("outstanding"))


def entitled_material_ids(*, organization) -> set[int]:
    """Ids of the materials in which `organization` holds an active entitlement."""
    return set(
        ParticipationAgreement.objects.filter(organization=organization, active=True).values_list(
            "material_id", flat=True
        )
    )


def entitlement_remaining(*, agreement: ParticipationAgreement, exclude_request_id: int | None = None) -> Decimal:
    """The entitlement not yet used (kg). `exclude_request_id` leaves one request out, e.g. the
    one being submitted, so that it is not counted against itself."""
    row = with_remaining(ParticipationAgreement.objects.filter(pk=agreement.pk)).values("remaining").get()
    remaining = row["remaining"]
    if exclude_request_id is not None:
        own = (
            DrawdownRequest.objects.filter(pk=exclude_request_id, status__in=PENDING_STATUSES)
            .values_list("status", "quantity", "approved_quantity", "first_approved_quantity")
            .first()
        )
        if own:
            status, quantity, approved, first_approved = own
            counted: dict[str, Decimal | None] = {
                DrawdownRequest.Status.APPROVED: approved,
                DrawdownRequest.Status.AWAITING_SECOND_APPROVAL: first_approved,
            }
            counted_as = counted.get(status)
            remaining += quantity if counted_as is None else counted_as
    # SQLite returns computed decimals unscaled; kg always have three places.
    return Decimal(remaining).quantize(QUANTUM)


def material_available(*, material) -> Decimal:
    """Stock of `material` free to reserve: on hand, not reserved, in available lots (all sites)."""
    total = Position.objects.filter(material=material).aggregate(total=Sum("available"))["total"]
    return Decimal(total or ZERO).quantize(QUANTUM)


def lots_with_free_stock(*, material_id: int) -> list[Lot]:
    """Available lots of the material with stock not reserved, read without locks: candidates
    to lock (`inventory.services.stock_lock`) before their free stock is read again."""
    return list(Lot.objects.filter(material_id=material_id, status=Lot.Status.AVAILABLE, on_hand__gt=F("reserved")))


def reservations_held(*, request: DrawdownRequest) -> list[Reservation]:
    """The request's held reservations with their lots, in lot id order (the lock order)."""
    return list(request.reservations.filter(state=Reservation.State.HELD).select_related("lot").order_by("lot_id"))


def disruption_active_for(*, material, on=None) -> bool:
    on = on or timezone.localdate()
    return DisruptionEvent.objects.filter(materials=material, starts_on__lte=on, ends_on__gte=on).exists()


def _narrow(queryset: QuerySet, user) -> QuerySet:
    if is_manufacturer(user):
        return queryset.filter(organization_id=user.organization_id)
    return queryset


def entitlement_list(*, user) -> QuerySet[ParticipationAgreement]:
    queryset = ParticipationAgreement.objects.select_related("organization", "material").order_by(
        "organization__code", "material__code", "id"
    )
    return with_remaining(_narrow(queryset, user))


def drawdown_list(*, user) -> QuerySet[DrawdownRequest]:
    queryset = DrawdownRequest.objects.select_related(
        "organization", "material", "requested_by", "first_approved_by", "approved_by"
    ).order_by("-id")
    return _narrow(queryset, user)


def drawdown_get(*, user, pk) -> DrawdownRequest | None:
    return drawdown_list(user=user).filter(pk=pk).first()


def transition_list(*, request: DrawdownRequest) -> QuerySet[DrawdownTransition]:
    return DrawdownTransition.objects.filter(request=request).select_related("by").order_by("id")


def obligation_list(*, user) -> QuerySet[ReplenishmentObligation]:
    queryset = ReplenishmentObligation.objects.select_related("organization", "material", "request").order_by(
        "due_on", "id"
    )
    return _narrow(queryset, user)


def disruption_list() -> QuerySet[DisruptionEvent]:
    return (
        DisruptionEvent.objects.select_related("declared_by")
        .prefetch_related("materials")
        .order_by("-starts_on", "-id")
    )


def disruption_active_filter(on=None) -> Q:
    on = on or timezone.localdate()
    return Q(starts_on__lte=on, ends_on__gte=on)


PRIORITY_RANK = Case(
    When(priority=DrawdownRequest.Priority.DEFENSE_RATED, then=Value(0)),
    When(priority=DrawdownRequest.Priority.DISRUPTION, then=Value(1)),
    default=Value(2),
)
