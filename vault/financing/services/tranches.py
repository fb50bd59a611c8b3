"""Tranches: planned -> approved -> disbursed, or cancelled before disbursal.

Guarantees: the approved and disbursed tranches of a facility never add up to more than its
commitment: an approval reserves headroom (`Facility.approved`), a disbursal moves the amount
from approved to disbursed, a cancellation releases it. The facility row is locked, then the
tranche's (the order everywhere), before the check; the maintained totals move with F()
expressions under a CHECK constraint (disbursed + approved <= commitment), and a deferred
PostgreSQL trigger verifies at commit that they equal the sums of the tranche rows. Four eyes:
a finance user other than the planner approves (a check constraint holds it); a disbursement
above `second_approval_threshold()` is requested by one finance user and posted when another
confirms it. A disbursal posts one balanced journal entry (source `tranche`) and is never dated
in the future or on or before the last accrued day."""

from __future__ import annotations

from datetime import date as date_type
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from vault.accounts.controls import role_require, second_user_require
from vault.accounts.models import User
from vault.accounts.roles import Role
from vault.core.errors import Conflict, InvalidInput, InvalidTransition
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


def second_approval_threshold() -> Decimal:
    """The amount (USD) above which a disbursement needs a second finance user
    (VAULT_DISBURSEMENT_SECOND_APPROVAL_USD)."""
    return parse_money(str(settings.VAULT_DISBURSEMENT_SECOND_APPROVAL_USD))


@transaction.atomic
def tranche_approve(*, tranche: Tranche, by: User) -> Tranche:
    """planned -> approved by a finance user (409 `role_required`) other than the planner (409
    `second_user_required`), reserving the amount from the facility's headroom: the commitment
    less what is disbursed and already approved (409 `commitment_reserved`, the headroom in the
    body). Under the facility row lock, so two approvals never reserve the same headroom."""
    role_require(by, Role.FINANCE, field="status")
    facility, tranche = _lock_tranche(tranche)
    _transition(tranche, {Tranche.Status.PLANNED}, "approved")
    second_user_require(tranche.created_by_id, by, what="Approving a tranche", field="status")
    if tranche.amount > facility.headroom:
        raise Conflict(
            f"{tranche.amount} is more than the {facility.headroom} of {facility.code}'s commitment not yet "
            f"disbursed or reserved by approved tranches (commitment {facility.commitment}, disbursed "
            f"{facility.disbursed}, approved {facility.approved}).",
            field="amount",
            code="commitment_reserved",
            headroom=facility.headroom,
        )
    Facility.objects.filter(pk=facility.pk).update(approved=F("approved") + tranche.amount)
    tranche.status = Tranche.Status.APPROVED
    tranche.approved_by, tranche.approved_at = by, timezone.now()
    history_as(tranche, by=by)
    tranche.save(update_fields=["status", "approved_by", "approved_at"])
    return tranche


def _disbursal_checked(facility: Facility, tranche: Tranche, day: date_type) -> None:
    _transition(tranche, {Tranche.Status.APPROVED}, "disbursed")
    _check_within_availability(facility, day, field="date")
    check_after_accruals(facility, day)
    _check_undrawn(facility, tranche.amount)


@transaction.atomic
def tranche_disburse(*, tranche: Tranche, by: User, date: date_type | None = None) -> Tranche:
    """approved -> disbursed on `date` (today by default): Dr cash / Cr loan payable (or
    investor capital), the amount moving from the facility's approved total to its disbursed
    total. Above `second_approval_threshold()` nothing is posted: the call records a disbursement
    request (who, when, the value date; a new call replaces a pending request) that another
    finance user confirms with `tranche_disburse_confirm`; the tranche stays approved. Raises
    Conflict (409) for a user outside finance (`role_required`), unless approved
    (`invalid_transition`) and on or before the last accrued day, CommitmentExceeded (400) beyond
    the undrawn amount, InvalidInput (400) for a date in the future or outside the availability
    period."""
    role_require(by, Role.FINANCE, field="date")
    day = date or timezone.localdate()
    check_not_future(day)
    facility, tranche = _lock_tranche(tranche)
    _disbursal_checked(facility, tranche, day)
    if tranche.amount <= second_approval_threshold():
        return _disbursal_post(facility, tranche, day, by=by)
    tranche.disbursement_requested_by, tranche.disbursement_requested_at = by, timezone.now()
    tranche.disbursement_date = day
    history_as(tranche, by=by, reason="disbursement requested")
    tranche.save(update_fields=["disbursement_requested_by", "disbursement_requested_at", "disbursement_date"])
    return tranche


@transaction.atomic
def tranche_disburse_confirm(*, tranche: Tranche, by: User) -> Tranche:
    """Post a requested disbursement on its requested date: by a finance user other than the one
    who asked (409 `second_user_required`; a check constraint holds it too). Refused without a
    pending request (409 `no_disbursement_request`) and, checked again, as `tranche_disburse`
    would refuse it (interest may have been accrued since the request: ask again)."""
    role_require(by, Role.FINANCE, field="status")
    facility, tranche = _lock_tranche(tranche)
    day = tranche.disbursement_date
    if day is None or not tranche.disbursement_pending:
        raise Conflict(
            f"Tranche {tranche.pk} has no disbursement waiting for confirmation.",
            field="status",
            code="no_disbursement_request",
        )
    second_user_require(
        tranche.disbursement_requested_by_id, by, what="A disbursement above the threshold", field="status"
    )
    _disbursal_checked(facility, tranche, day)
    return _disbursal_post(facility, tranche, day, by=by)


def _disbursal_post(facility: Facility, tranche: Tranche, day: date_type, *, by: User) -> Tranche:
    Facility.objects.filter(pk=facility.pk).update(
        disbursed=F("disbursed") + tranche.amount, approved=F("approved") - tranche.amount
    )
    tranche.status = Tranche.Status.DISBURSED
    tranche.actual_date = day
    tranche.disbursed_by, tranche.disbursed_at = by, timezone.now()
    history_as(tranche, by=by)
    tranche.save(update_fields=["status", "actual_date", "disbursed_by", "disbursed_at"])
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
    """planned or approved -> cancelled, releasing an approved tranche's reserved headroom. A
    disbursed tranche is repaid, never cancelled."""
    facility, tranche = _lock_tranche(tranche)
    _transition(tranche, {Tranche.Status.PLANNED, Tranche.Status.APPROVED}, "cancelled")
    if tranche.status == Tranche.Status.APPROVED:
        Facility.objects.filter(pk=facility.pk).update(approved=F("approved") - tranche.amount)
    tranche.status = Tranche.Status.CANCELLED
    history_as(tranche, by=by, reason=reason)
    tranche.save(update_fields=["status"])
    return tranche
