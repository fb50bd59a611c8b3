"""A drawdown request's workflow: create, submit, approve (in full or in part), reject, cancel
and fulfil. Guarantees:

- a request only moves along the allowed transitions (`domain.ALLOWED`), each leaving exactly
  one DrawdownTransition row; the request row is locked first, so two concurrent transitions
  of the same request queue and the second sees the first's result (InvalidTransition, 409);
- a request never asks for more than the remaining entitlement: the agreement row is locked
  while it is checked, so two concurrent submissions cannot both use the same entitlement;
- approval reserves stock on specific lots (`reservations`): a short approval writes nothing;
  above the second-approval limits it takes two managers, neither the requester, and the first
  reserves nothing (`drawdown_approve`);
- fulfilment issues exactly the reserved quantities, posts the receivable at the locked price
  and opens the replenishment obligation (`replenishment`);
- every state change enqueues its e-mail notifications through the transactional outbox.

Lock order: request, then agreement, then lots by id. Errors are typed (vault.core.errors)
and name the field; nothing is written on error."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from vault.accounts.controls import role_require, second_user_require
from vault.accounts.models import Organization, User
from vault.accounts.permissions import is_manufacturer
from vault.accounts.roles import Role
from vault.core.errors import InsufficientStock, InvalidInput
from vault.core.numbers import parse_quantity
from vault.core.outbox import outbox_enqueue
from vault.drawdowns import selectors
from vault.drawdowns.domain import (
    RequestTerms,
    Status,
    fulfilment_figures,
    request_dates_check,
    request_window_check,
    second_approval_limits,
    transition_require,
)
from vault.drawdowns.models import DrawdownRequest, DrawdownTransition, ParticipationAgreement, ReplenishmentObligation
from vault.drawdowns.services._common import NOTIFY_MANAGERS, actor_check, request_lock, transition_record
from vault.drawdowns.services.replenishment import obligation_open, receivable_post
from vault.drawdowns.services.reservations import reservations_hold, reservations_issue, reservations_release
from vault.inventory.models import Material


def _terms_check(
    *, agreement: ParticipationAgreement, terms: RequestTerms, exclude_request_id: int | None = None
) -> None:
    """The rules a request meets when created and again when submitted: the dates and the
    priority (`domain.request_dates_check`, `domain.request_window_check`), at most the
    remaining entitlement (InvalidInput, `exceeds_entitlement`) and at most the stock
    available in the reserve (InsufficientStock)."""
    today = timezone.localdate()
    request_dates_check(terms, today=today)
    request_window_check(
        terms,
        today=today,
        in_disruption=selectors.disruption_active_for(material=agreement.material, on=today),
        material_code=agreement.material.code,
        replenishment_days=agreement.replenishment_days,
    )
    quantity = terms.quantity
    remaining = selectors.entitlement_remaining(agreement=agreement, exclude_request_id=exclude_request_id)
    if quantity > remaining:
        raise InvalidInput(
            f"{quantity} kg is more than your remaining entitlement of {remaining} kg of {agreement.material.code}.",
            field="quantity",
            code="exceeds_entitlement",
            remaining=remaining,
        )
    available = selectors.material_available(material=agreement.material)
    if quantity > available:
        raise InsufficientStock(
            f"{quantity} kg is more than the {available} kg of {agreement.material.code} available in the reserve.",
            field="quantity",
            available=available,
        )


def _agreement_lock(*, organization_id: int, material: Material) -> ParticipationAgreement:
    """The organization's active agreement in `material`, locked FOR NO KEY UPDATE; InvalidInput
    (`no_entitlement`, on `material`) when there is none."""
    agreement = (
        ParticipationAgreement.objects.select_for_update(no_key=True)
        .filter(organization_id=organization_id, material=material, active=True)
        .first()
    )
    if agreement is None:
        raise InvalidInput(
            f"Your organization holds no entitlement in {material.code}.", field="material", code="no_entitlement"
        )
    agreement.material = material
    return agreement


def _submit(
    request: DrawdownRequest, *, by: User, agreement: ParticipationAgreement, comment: str, checked: bool = False
) -> None:
    """draft -> submitted under the agreement lock, the terms checked again unless `checked`
    (they were, under the same lock); notifies the managers too."""
    transition_require(request, Status.SUBMITTED)
    if not checked:
        _terms_check(agreement=agreement, terms=RequestTerms.of(request), exclude_request_id=request.pk)
    request.submitted_at = timezone.now()
    transition_record(request, to=Status.SUBMITTED, by=by, comment=comment, fields=("submitted_at",))
    outbox_enqueue(NOTIFY_MANAGERS, request_id=request.pk)


@transaction.atomic
def drawdown_create(
    *,
    by: User,
    material: Material,
    quantity: Decimal,
    needed_by: date,
    priority: str = DrawdownRequest.Priority.ROUTINE,
    justification: str = "",
    replenish_by: date | None = None,
    submit: bool = False,
    reference: str = "",
) -> DrawdownRequest:
    """Create a draft request for the user's organization (and submit it when `submit`).
    Only a participant's user (InvalidInput, `not_a_participant`). Checks the entitlement,
    the stock, the dates and the priority under the agreement lock (InvalidInput naming the
    field; InsufficientStock when the reserve holds less)."""
    if not is_manufacturer(by) or by.organization_id is None:
        raise InvalidInput(
            "Only a participant organization's user can request a drawdown.",
            field="organization",
            code="not_a_participant",
        )
    quantity = parse_quantity(quantity)
    agreement = _agreement_lock(organization_id=by.organization_id, material=material)
    terms = RequestTerms(quantity=quantity, needed_by=needed_by, priority=priority, replenish_by=replenish_by)
    _terms_check(agreement=agreement, terms=terms)
    request = DrawdownRequest.objects.create(
        organization_id=by.organization_id,
        material=material,
        agreement=agreement,
        **terms.as_fields(),
        justification=justification or "",
        requested_by=by,
        reference=reference or "",
    )
    DrawdownTransition.objects.create(request=request, from_status="", to_status=Status.DRAFT, by=by)
    if submit:  # the terms were just checked under the same agreement lock
        _submit(request, by=by, agreement=agreement, comment="", checked=True)
    return request


def _locked_for(request: DrawdownRequest, *, by: User, to: str) -> DrawdownRequest:
    """The request locked, refused to a manufacturer of another organization (NotFound) and
    unless it may move to `to` (InvalidTransition)."""
    request = request_lock(request)
    actor_check(request, by)
    transition_require(request, to)
    return request


@transaction.atomic
def drawdown_submit(*, request: DrawdownRequest, by: User, comment: str = "") -> DrawdownRequest:
    """draft -> submitted, re-checking every rule of `drawdown_create` under the agreement lock.
    Notifies the organization and the managers. InvalidTransition (409) from another state."""
    request = _locked_for(request, by=by, to=Status.SUBMITTED)
    material = Material.objects.get(pk=request.material_id)
    agreement = _agreement_lock(organization_id=request.organization_id, material=material)
    _submit(request, by=by, agreement=agreement, comment=comment)
    return request


def _approve_and_reserve(request: DrawdownRequest, *, by: User, quantity: Decimal, comment: str) -> None:
    """-> approved for `quantity`, reserved on the lots (`reservations.reservations_hold`)."""
    reservations_hold(request=request, quantity=quantity)
    request.approved_quantity = quantity
    request.approved_by = by
    request.decided_at = timezone.now()
    transition_record(
        request,
        to=Status.APPROVED,
        by=by,
        comment=comment,
        quantity=quantity,
        fields=("approved_quantity", "approved_by", "decided_at"),
    )


@transaction.atomic
def drawdown_approve(
    *, request: DrawdownRequest, by: User, quantity: Decimal | None = None, comment: str = ""
) -> DrawdownRequest:
    """Approve a request, by a manager (409 `role_required`) who did not request it (409
    `second_user_required`; a check constraint holds it too).

    submitted -> approved for `quantity` (default: all requested; less is a partial approval,
    more is InvalidInput `exceeds_requested`), reserving it on available lots, oldest received
    first (`reservations.reservations_hold`). The lots are locked in id order and their free
    stock read under the locks, so concurrent approvals never reserve more than is on hand;
    when the stock is short, InsufficientStock (409) and nothing is reserved.

    Four eyes: when `quantity` is above the limits (`domain.second_approval_limits`: kg, or USD
    at the agreement's locked price), the approval is a first approval instead: submitted ->
    awaiting_second_approval, recording who, when and the quantity, reserving nothing. A second
    manager's approval then completes it as above, for at most the first approval's quantity
    (InvalidInput `exceeds_first_approval`); the first approver approving again is refused (409
    `second_user_required`). Either may reject it meanwhile. Both approvals lock the request
    first, so two second approvals racing pass once (the other is an InvalidTransition)."""
    role_require(by, Role.MANAGER, field="request")
    request = _locked_for(request, by=by, to=Status.APPROVED)
    second_user_require(request.requested_by_id, by, what=f"Drawdown {request.number}", field="request")
    if request.status == Status.AWAITING_SECOND_APPROVAL:
        first = request.first_approved_quantity
        assert first is not None  # awaiting a second approval has a first one (a check constraint)
        second_user_require(
            request.first_approved_by_id, by, what=f"The second approval of {request.number}", field="request"
        )
        quantity = first if quantity is None else parse_quantity(quantity)
        if quantity > first:
            raise InvalidInput(
                f"Approve at most the {first} kg of the first approval (less is fine).",
                field="quantity",
                code="exceeds_first_approval",
            )
        _approve_and_reserve(request, by=by, quantity=quantity, comment=comment)
        return request
    quantity = request.quantity if quantity is None else parse_quantity(quantity)
    if quantity > request.quantity:
        raise InvalidInput(
            f"Approve at most the {request.quantity} kg requested (partial approval is fine).",
            field="quantity",
            code="exceeds_requested",
        )
    agreement = ParticipationAgreement.objects.get(pk=request.agreement_id)
    if not second_approval_limits().exceeded_by(quantity=quantity, locked_price=agreement.locked_price):
        _approve_and_reserve(request, by=by, quantity=quantity, comment=comment)
        return request
    request.second_approval_required = True
    request.first_approved_by = by
    request.first_approved_at = timezone.now()
    request.first_approved_quantity = quantity
    transition_record(
        request,
        to=Status.AWAITING_SECOND_APPROVAL,
        by=by,
        comment=comment,
        quantity=quantity,
        fields=("second_approval_required", "first_approved_by", "first_approved_at", "first_approved_quantity"),
    )
    return request


@transaction.atomic
def drawdown_reject(*, request: DrawdownRequest, by: User, comment: str) -> DrawdownRequest:
    """submitted (or awaiting a second approval: by either manager) -> rejected; a reason
    (`comment`) is required (InvalidInput, `reason_required`) and sent to the organization."""
    request = _locked_for(request, by=by, to=Status.REJECTED)
    if not (comment or "").strip():
        raise InvalidInput("Say why the request is rejected.", field="comment", code="reason_required")
    request.decided_at = timezone.now()
    transition_record(request, to=Status.REJECTED, by=by, comment=comment, fields=("decided_at",))
    return request


@transaction.atomic
def drawdown_cancel(*, request: DrawdownRequest, by: User, comment: str = "") -> DrawdownRequest:
    """draft, submitted, awaiting a second approval or approved -> cancelled. An approved
    request gives its reserved stock back to the lots it was reserved on
    (`reservations.reservations_release`); one awaiting a second approval holds none."""
    request = _locked_for(request, by=by, to=Status.CANCELLED)
    reservations_release(request=request)
    transition_record(request, to=Status.CANCELLED, by=by, comment=comment)
    return request


@transaction.atomic
def drawdown_fulfil(*, request: DrawdownRequest, by: User, comment: str = "") -> ReplenishmentObligation:
    """approved -> fulfilled: issue the reserved stock (one release movement per lot, which
    credits inventory at cost), post Dr receivables / Cr material sales at the locked price
    (and the premium to carrying-cost income), and open the replenishment obligation."""
    request = _locked_for(request, by=by, to=Status.FULFILLED)
    agreement = ParticipationAgreement.objects.get(pk=request.agreement_id)
    organization = Organization.objects.get(pk=request.organization_id)
    material = Material.objects.get(pk=request.material_id)
    now = timezone.now()
    today = timezone.localdate()
    reservations_issue(request=request, by=by, reason=f"Drawdown {request.number} to {organization.code}", at=now)
    drawn = request.approved_quantity
    assert drawn is not None  # an approved request has its quantity (a check constraint)
    figures = fulfilment_figures(drawn=drawn, premium_pct=agreement.premium_pct, locked_price=agreement.locked_price)
    receivable_post(
        request=request,
        agreement=agreement,
        figures=figures,
        organization=organization,
        material=material,
        by=by,
        on=today,
    )
    obligation = obligation_open(
        request=request, agreement=agreement, figures=figures, organization=organization, material=material, on=today
    )
    request.fulfilled_at = now
    transition_record(request, to=Status.FULFILLED, by=by, comment=comment, fields=("fulfilled_at",))
    return obligation
