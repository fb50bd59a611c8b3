"""Checks and locks shared by the financing services."""

from __future__ import annotations

from datetime import date

from django.utils import timezone

from vault.core.errors import Conflict, InvalidInput
from vault.financing.models import Facility
from vault.financing.selectors import last_accrued_day


def facility_lock(facility: Facility) -> Facility:
    """The facility's row, locked FOR UPDATE (always the first lock a financing service takes)."""
    return Facility.objects.select_for_update().get(pk=facility.pk)


def check_not_future(day: date, *, field: str = "date") -> None:
    """Money movements are recorded once they happen: a later day is `date_in_future`."""
    if day > timezone.localdate():
        raise InvalidInput(
            f"{day} is in the future; record money movements once they happen.", field=field, code="date_in_future"
        )


def check_after_accruals(facility: Facility, day: date, *, field: str = "date") -> None:
    """Nothing is dated on or before the loan's last accrued day (Conflict `already_accrued`),
    so interest already accrued never needs rewriting. Call with the facility locked."""
    last = last_accrued_day(facility)
    if last is not None and day <= last:
        raise Conflict(
            f"Interest on {facility.code} is accrued through {last}; record this after that day.",
            field=field,
            code="already_accrued",
        )
