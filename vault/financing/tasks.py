"""Celery tasks of the financing app. Thin: load by id, call a service, safe to rerun."""

from __future__ import annotations

import logging
from datetime import date, timedelta

from celery import shared_task
from django.utils import timezone

from vault.financing import selectors, services
from vault.financing.models import Facility

log = logging.getLogger(__name__)


@shared_task(name="vault.financing.tasks.accrue_interest", acks_late=True)
def accrue_interest(through: str | None = None) -> int:
    """Accrue every loan's interest for each day not yet accrued, through `through` (ISO date)
    or yesterday. Each facility is accrued in its own transaction under its row lock, so a rerun,
    a redelivery (acks_late) or two concurrent runs give exactly one accrual per facility per day.
    Returns the number of accrual rows created."""
    through_day = date.fromisoformat(through) if through else timezone.localdate() - timedelta(days=1)
    created = 0
    for facility_id in selectors.loan_facility_ids():
        facility = Facility.objects.get(pk=facility_id)
        rows = services.interest_accrue(facility=facility, through=through_day)
        if rows:
            log.info("accrued %s days of interest on %s through %s", len(rows), facility.code, through_day)
        created += len(rows)
    return created
