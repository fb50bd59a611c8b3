"""Supply disruptions: while one is declared for a material, participants may draw their full
entitlement without a replenishment commitment date and use the disruption priority.
Guarantees: a disruption names at least one material (`materials_required`), has sane dates
(`domain.disruption_dates_check`: `disruption_dates_out_of_range`) and a reason
(`reason_required`); nothing is written otherwise."""

from __future__ import annotations

from datetime import date

from django.db import transaction
from django.utils import timezone

from vault.accounts.models import User
from vault.core.errors import InvalidInput
from vault.drawdowns.domain import disruption_dates_check
from vault.drawdowns.models import DisruptionEvent
from vault.inventory.models import Material


@transaction.atomic
def disruption_declare(
    *, by: User, materials: list[Material], starts_on: date, ends_on: date, reason: str, reference: str = ""
) -> DisruptionEvent:
    """Declare a supply disruption for `materials` from `starts_on` to `ends_on` (inclusive).

    Dates must be sane (see `domain.disruption_dates_check`): InvalidInput with code
    `disruption_dates_out_of_range` on `starts_on` or `ends_on` otherwise, nothing written."""
    if not materials:
        raise InvalidInput("Name at least one material.", field="materials", code="materials_required")
    disruption_dates_check(starts_on=starts_on, ends_on=ends_on, today=timezone.localdate())
    if not (reason or "").strip():
        raise InvalidInput("Say what the disruption is.", field="reason", code="reason_required")
    event = DisruptionEvent.objects.create(
        starts_on=starts_on, ends_on=ends_on, reason=reason, reference=reference or "", declared_by=by
    )
    event.materials.set(materials)
    return event
