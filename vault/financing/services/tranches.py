"""Tranches: planned -> approved -> disbursed, or cancelled before disbursal.

Guarantees: the disbursed tranches of a facility never add up to more than its commitment. The
facility row is locked, then the tranche's (the order everywhere), before the check; the
maintained `disbursed` total moves with an F() expression under a CHECK constraint, and a
deferred PostgreSQL trigger verifies at commit that it equals the sum of the tranche rows. A
disbursal posts one balanced journal entry (source `tranche`) and is never dated in the future
or on or before the last accrued day."""

from __future__ import annotations

from datetime import date as date_type
from decimal import Decimal

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from vault.accounts.models import User
from vault.core.errors import InvalidInput, InvalidTransition
from vault.core.history import history_as
from vault.financing.errors import CommitmentExceeded
from vault.financing.models import Facility, Tranche
from vault.financing.parsing import parse_money
from vault.financing.services._common import check_after_accruals, check_not_future, facility_lock
from vault.ledger import chart
from vault.ledger.services import Line, entry_post


def _check_within_availability(facility: Facility, day: date_type, *, field: str) -> None:
    if not facility.available_from <= day <= facility.available_until:
        raise InvalidInput(
            f"{day} is outside {facility.code}'s availability period "
            f"({facility.available_from} to {facility.available_until}).",
            field=field,
            code="outside_availability",
        )


def _check_undrawn(facility: Facility, amount: Decimal) -> None:
    if amount > facility.undrawn:
        raise CommitmentExceeded(
            f"{amount} is more than the {facility.undrawn} undrawn on {facility.code} "
            f"(commitment {facility.commitment}, disbursed {facility.disbursed}).",
            field="amount",
        )


@transaction.atomic
def tranche_plan(
    *, facility: Facility, amount: Decimal, expected_date: date_type, by: User, purpose: str = ""
) -> Tranche:
    """Plan a draw: a positive amount in cents, no more than the facility's undrawn
    commitment, expected within its availability period."""
    amount = parse_money(amount)
    _check_within_availability(facility, expected_date, field="expected_date")
    facility = facility_lock(facility)
    _check_undrawn(facility, amount)
    tranche = Tranche(facility=facility, amount=amount, expected_date=expected_date, purpose=purpose, created_by=by)
    history_as(tranche, by=by)
    tranche.save()
    return tranche


def _lock_tranche(tranche: Tranche) -> tuple[Facility, Tranche]:
    facility = facility_lock(tranche.facility)
    return facility, Tranche.objects.select_for_update().get(pk=tranche.pk)


def _transition(tranche: Tranche, allowed: set[str], verb: str) -> None:
    if tranche.status not in allowed:
        raise InvalidTransition(f"A {tranche.status} tranche cannot be {verb}.", field="status")


@transaction.atomic
def tranche_approve(*, tranche: Tranche, by: User) -> Tranche:
    """planned -> approved, while the amount still fits in the undrawn commitment."""
    facility, tranche = _lock_tranche(tranche)
    _transition(tranche, {Tranche.Status.PLANNED}, "approved")
    _check_undrawn(facility, tranche.amount)
    tranche.status = Tranche.Status.APPROVED
    history_as(tranche, by=by)
    tranche.save(update_fields=["status"])
    return tranche


@transaction.atomic
def tranche_disburse(*, tranche: Tranche, by: User, date: date_type | None = None) -> Tranche:
    """approved -> disbursed on `date` (today by default): Dr cash / Cr loan payable (or
    investor capital). Guarantees the facility's disbursed tranches stay within its commitment
    under concurrent disbursals (facility row lock, then CHECK). Raises InvalidTransition (409)
    unless approved, Conflict (409) on or before the last accrued day, CommitmentExceeded (400)
    beyond the undrawn amount, InvalidInput (400) for a date in the future or outside the
    availability period."""
    day = date or timezone.localdate()
    check_not_future(day)
    facility, tranche = _lock_tranche(tranche)
    _transition(tranche, {Tranche.Status.APPROVED}, "disbursed")
    _check_within_availability(facility, day, field="date")
    check_after_accruals(facility, day)
    _check_undrawn(facility, tranche.amount)
    Facility.objects.filter(pk=facility.pk).update(disbursed=F("disbursed") + tranche.amount)
    tranche.status = Tranche.Status.DISBURSED
    tranche.actual_date = day
    history_as(tranche, by=by)
    tranche.save(update_fields=["status", "actual_date"])
    noun = "Loan tranche" if facility.is_loan else "Capital call"
    entry_post(
        date=day,
        memo=f"{noun} disbursed: {facility.code} #{tranche.pk} {tranche.purpose}".strip(),
        lines=[Line(chart.CASH, debit=tranche.amount), Line(facility.account.code, credit=tranche.amount)],
        source_type="tranche",
        source_id=tranche.pk,
        by=by,
    )
    return tranche


@transaction.atomic
def tranche_cancel(*, tranche: Tranche, by: User, reason: str = "") -> Tranche:
    """planned or approved -> cancelled. A disbursed tranche is repaid, never cancelled."""
    _, tranche = _lock_tranche(tranche)
    _transition(tranche, {Tranche.Status.PLANNED, Tranche.Status.APPROVED}, "cancelled")
    tranche.status = Tranche.Status.CANCELLED
    history_as(tranche, by=by, reason=reason)
    tranche.save(update_fields=["status"])
    return tranche
