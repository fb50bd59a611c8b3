"""Reads for the facility-headroom panel of the admin dashboard (one query, however many facilities)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from django.utils import timezone

from vault.financing.models import Facility

ZERO = Decimal("0.00")
TENTH = Decimal("0.1")


def percent_drawn(disbursed: Decimal, commitment: Decimal) -> Decimal:
    """Disbursed as a percentage of the commitment, to one decimal (half up)."""
    if not commitment:
        return Decimal("0.0")
    return (disbursed * 100 / commitment).quantize(TENTH, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Drawn:
    """Commitment, disbursed, outstanding principal and undrawn headroom: of one facility or
    of them all."""

    commitment: Decimal
    disbursed: Decimal
    outstanding: Decimal
    undrawn: Decimal

    @property
    def percent_drawn(self) -> Decimal:
        return percent_drawn(self.disbursed, self.commitment)


@dataclass(frozen=True)
class FacilityHeadroom(Drawn):
    pk: int
    code: str
    name: str
    kind: str
    kind_label: str
    available_until: date
    available: bool


@dataclass(frozen=True)
class HeadroomSummary(Drawn):
    facilities: list[FacilityHeadroom]
    undrawn_available: Decimal


def facility_headroom(*, today: date | None = None) -> HeadroomSummary:
    """Per facility (by code): commitment, disbursed, outstanding principal (disbursed less
        repaid) and undrawn headroom (commitment less disbursed, what further tranches may still
        draw), whether the availability period still runs today; and the totals, with the headroom
    of the facilities still available today apart. Read from the
        facilities' maintained totals (checked against their tranches and repayments at commit)
        in one query."""
    today = today or timezone.localdate()
    kinds = dict(Facility.Kind.choices)
    rows = [
        FacilityHeadroom(
            pk=pk,
            code=code,
            name=name,
            kind=kind,
            kind_label=kinds.get(kind, kind),
            commitment=commitment,
            disbursed=disbursed,
            outstanding=disbursed - repaid,
            undrawn=commitment - disbursed,
            available_until=available_until,
            available=available_from <= today <= available_until,
        )
        for pk, code, name, kind, commitment, disbursed, repaid, available_from, available_until in (
            Facility.objects.order_by("code").values_list(
                "pk",
                "code",
                "name",
                "kind",
                "commitment",
                "disbursed",
                "repaid",
                "available_from",
                "available_until",
            )
        )
    ]
    return HeadroomSummary(
        facilities=rows,
        commitment=sum((r.commitment for r in rows), ZERO),
        disbursed=sum((r.disbursed for r in rows), ZERO),
        outstanding=sum((r.outstanding for r in rows), ZERO),
        undrawn=sum((r.undrawn for r in rows), ZERO),
        undrawn_available=sum((r.undrawn for r in rows if r.available), ZERO),
    )
