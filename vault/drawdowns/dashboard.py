"""Reads for the review-queue panel of the admin dashboard (one query, whatever the queue's size)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db.models import Count, DecimalField, Min, Q, Sum, Value
from django.db.models.functions import Coalesce

from vault.drawdowns.models import DrawdownRequest

Status = DrawdownRequest.Status
Priority = DrawdownRequest.Priority


@dataclass(frozen=True)
class ReviewQueueSummary:
    awaiting_review: int
    defense_rated: int
    disruption: int
    quantity_kg: Decimal
    oldest_submitted_at: datetime | None
    awaiting_second_approval: int
    awaiting_fulfilment: int

    @property
    def prioritised(self) -> int:
        """Requests awaiting review that are defense-rated or made under a declared disruption."""
        return self.defense_rated + self.disruption


def review_queue_summary() -> ReviewQueueSummary:
    """Requests submitted and awaiting a manager's decision (all organizations), how many of
    them are defense-rated or disruption priority, the kilograms they ask for and the oldest
    submission; how many first approvals wait for a second manager, and how many approved
    requests wait to be fulfilled. One aggregate query."""
    submitted = Q(status=Status.SUBMITTED)
    waiting = [Status.SUBMITTED, Status.AWAITING_SECOND_APPROVAL, Status.APPROVED]
    row = DrawdownRequest.objects.filter(status__in=waiting).aggregate(
        awaiting_review=Count("id", filter=submitted),
        defense_rated=Count("id", filter=submitted & Q(priority=Priority.DEFENSE_RATED)),
        disruption=Count("id", filter=submitted & Q(priority=Priority.DISRUPTION)),
        quantity_kg=Coalesce(
            Sum("quantity", filter=submitted),
            Value(Decimal("0")),
            output_field=DecimalField(max_digits=18, decimal_places=3),
        ),
        oldest_submitted_at=Min("submitted_at", filter=submitted),
        awaiting_second_approval=Count("id", filter=Q(status=Status.AWAITING_SECOND_APPROVAL)),
        awaiting_fulfilment=Count("id", filter=Q(status=Status.APPROVED)),
    )
    return ReviewQueueSummary(**row)
