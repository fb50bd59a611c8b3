"""Writes for drawdowns. Every function runs in one transaction and guarantees:

- a request only moves along the allowed transitions (`ALLOWED`), each leaving exactly one
  DrawdownTransition row; the request row is locked first (SELECT ... FOR UPDATE), so two
  concurrent transitions of the same request queue and the second sees the first's result;
- a request never asks for more than the remaining entitlement (the agreement row is locked
  while it is checked, so two concurrent submissions cannot both use the same entitlement);
- approval reserves stock of specific lots, oldest received first, only from available lots,
  with the lots locked in id order and the free quantity read under those locks: the total
  reserved can never exceed what is on hand, and a short approval writes nothing;
- fulfilment issues exactly the reserved quantities, posts the receivable at the locked
  price, and creates the replenishment obligation;
- every state change enqueues its e-mail notifications through the transactional outbox.

Lock order everywhere: request, then agreement or obligation, then lots by id.
Errors are typed (vault.core.errors) and name the field; nothing is written on error.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from vault.accounts.models import Organization
from vault.accounts.permissions import is_manufacturer
from vault.core.errors import Conflict, InsufficientStock, InvalidInput, InvalidTransition, NotFound
from vault.core.numbers import parse_quantity
from vault.core.outbox import outbox_enqueue
from vault.drawdowns import selectors
from vault.drawdowns.models import (
    DisruptionEvent,
    DrawdownRequest,
    DrawdownTransition,
    ParticipationAgreement,
    Replenishment,
    ReplenishmentObligation,
    Reservation,
)
from vault.financing.services import fee_receive
from vault.inventory.models import Lot, Material, Site
from vault.inventory.services import lot_create, lot_reserve, lot_unreserve, movement_release, stock_lock
from vault.ledger import chart
from vault.ledger.services import Line, entry_post

Status = DrawdownRequest.Status
QUANTUM = Decimal("0.001")
CENT = Decimal("0.01")

ALLOWED: dict[str, set[str]] = {
    Status.DRAFT: {Status.SUBMITTED, Status.CANCELLED},
    Status.SUBMITTED: {Status.APPROVED, Status.REJECTED, Status.CANCELLED},
    Status.APPROVED: {Status.FULFILLED, Status.CANCELLED},
    Status.FULFILLED: {Status.REPLENISHED},
    Status.REPLENISHED: set(),
    Status.REJECTED: set(),
    Status.CANCELLED: set(),
}

_VERB: dict[str, str] = {
    Status.SUBMITTED: "submitted",
    Status.APPROVED: "approved",
    Status.REJECTED: "rejected",
    Status.FULFILLED: "fulfilled",
    Status.REPLENISHED: "marked replenished",
    Status.CANCELLED: "cancelled",
}

NOTIFY_STATUS = "vault.drawdowns.tasks.notify_status_changed"
NOTIFY_MANAGERS = "vault.drawdowns.tasks.notify_managers_submitted"


# --- helpers ---------------------------------------------------------------------------------


def _money(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def _lock(request: DrawdownRequest) -> DrawdownRequest:
    # NO KEY UPDATE: serialises the request's writers without blocking rows that reference it.
    return DrawdownRequest.objects.select_for_update(no_key=True).get(pk=request.pk)


def _check_actor(request: DrawdownRequest, by) -> None:
    """A manufacturer acts only on its own organization's requests: others' do not exist for it."""
    if is_manufacturer(by) and by.organization_id != request.organization_id:
        raise NotFound(f"Drawdown request {request.pk} not found.", field="request", code="drawdown_request_not_found")


def _require(request: DrawdownRequest, to: str) -> None:
    if to not in ALLOWED.get(request.status, set()):
        raise InvalidTransition(
            f"Drawdown {request.number} is {request.status}; it cannot be {_VERB.get(to, to)}.",
            field="status",
            status=request.status,
        )


def _record(
    request: DrawdownRequest,
    *,
    to: str,
    by,
    comment: str = "",
    quantity: Decimal | None = None,
    fields: tuple[str, ...] = (),
) -> DrawdownTransition:
    """Move `request` (already locked and checked with `_require`) to `to`, leave the row and
    enqueue the notification to the organization."""
    from_status = request.status
    request.status = to
    request.save(update_fields=["status", *fields])
    transition = DrawdownTransition.objects.create(
        request=request, from_status=from_status, to_status=to, by=by, comment=comment or "", quantity=quantity
    )
    outbox_enqueue(NOTIFY_STATUS, request_id=request.pk, transition_id=transition.pk)
    return transition


def _validate_terms(
    *,
    agreement: ParticipationAgreement,
    quantity: Decimal,
    needed_by: date,
    priority: str,
    replenish_by: date | None,
    exclude_request_id: int | None = None,
) -> None:
    """The rules a request must meet when created and again when submitted."""
    today = timezone.localdate()
    if priority not in DrawdownRequest.Priority.values:
        raise InvalidInput(
            f"Unknown priority {priority!r}; choose one of {', '.join(DrawdownRequest.Priority.values)}.",
            field="priority",
            code="priority_unknown",
        )
    if needed_by is None:
        raise InvalidInput("Say by when the material is needed.", field="needed_by", code="needed_by_required")
    if needed_by < today:
        raise InvalidInput(
            f"The needed-by date {needed_by} is in the past.", field="needed_by", code="needed_by_in_past"
        )
    in_disruption = selectors.disruption_active_for(material=agreement.material, on=today)
    if priority == DrawdownRequest.Priority.DISRUPTION and not in_disruption:
        raise InvalidInput(
            f"No supply disruption is declared for {agreement.material.code}; use routine or defense-rated.",
            field="priority",
            code="no_disruption_declared",
        )
    window_end = today + timedelta(days=agreement.replenishment_days)
    if replenish_by is None and not in_disruption:
        raise InvalidInput(
            f"Outside a declared disruption a draw needs a replenishment commitment date "
            f"(on or before {window_end}, your {agreement.replenishment_days}-day window).",
            field="replenish_by",
            code="replenish_by_required",
        )
    if replenish_by is not None and not (today <= replenish_by <= window_end):
        raise InvalidInput(
            f"The replenishment commitment date must fall between {today} and {window_end} "
            f"(your {agreement.replenishment_days}-day window).",
            field="replenish_by",
            code="replenish_by_outside_window",
        )
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


def _locked_agreement(*, organization_id: int, material: Material) -> ParticipationAgreement:
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


# --- requests --------------------------------------------------------------------------------


@transaction.atomic
def drawdown_create(
    *,
    by,
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
    Checks the entitlement, the stock, the dates and the priority (InvalidInput naming the
    field; InsufficientStock when the reserve holds less)."""
    if not is_manufacturer(by) or by.organization_id is None:
        raise InvalidInput(
            "Only a participant organization's user can request a drawdown.",
            field="organization",
            code="not_a_participant",
        )
    quantity = parse_quantity(quantity)
    agreement = _locked_agreement(organization_id=by.organization_id, material=material)
    _validate_terms(
        agreement=agreement, quantity=quantity, needed_by=needed_by, priority=priority, replenish_by=replenish_by
    )
    request = DrawdownRequest.objects.create(
        organization_id=by.organization_id,
        material=material,
        agreement=agreement,
        quantity=quantity,
        needed_by=needed_by,
        priority=priority,
        justification=justification or "",
        replenish_by=replenish_by,
        requested_by=by,
        reference=reference or "",
    )
    DrawdownTransition.objects.create(request=request, from_status="", to_status=Status.DRAFT, by=by)
    if submit:  # the terms were just checked under the same agreement lock
        _submit(request, by=by, agreement=agreement, comment="", checked=True)
    return request


def _submit(
    request: DrawdownRequest, *, by, agreement: ParticipationAgreement, comment: str, checked: bool = False
) -> None:
    _require(request, Status.SUBMITTED)
    if not checked:
        _validate_terms(
            agreement=agreement,
            quantity=request.quantity,
            needed_by=request.needed_by,
            priority=request.priority,
            replenish_by=request.replenish_by,
            exclude_request_id=request.pk,
        )
    request.submitted_at = timezone.now()
    _record(request, to=Status.SUBMITTED, by=by, comment=comment, fields=("submitted_at",))
    outbox_enqueue(NOTIFY_MANAGERS, request_id=request.pk)


@transaction.atomic
def drawdown_submit(*, request: DrawdownRequest, by, comment: str = "") -> DrawdownRequest:
    """draft -> submitted, re-checking every rule of `drawdown_create` under the agreement lock.
    Notifies the organization and the managers. InvalidTransition (409) from another state."""
    request = _lock(request)
    _check_actor(request, by)
    _require(request, Status.SUBMITTED)
    material = Material.objects.get(pk=request.material_id)
    agreement = _locked_agreement(organization_id=request.organization_id, material=material)
    _submit(request, by=by, agreement=agreement, comment=comment)
    return request


@transaction.atomic
def drawdown_approve(
    *, request: DrawdownRequest, by, quantity: Decimal | None = None, comment: str = ""
) -> DrawdownRequest:
    """submitted -> approved for `quantity` (default: all requested; less is a partial approval),
    reserving it on available lots, oldest received first. The lots are locked in id order and
    their free stock read under the locks, so concurrent approvals never reserve more than is
    on hand; when the stock is short, InsufficientStock (409) and nothing is reserved."""
    request = _lock(request)
    _check_actor(request, by)
    _require(request, Status.APPROVED)
    quantity = request.quantity if quantity is None else parse_quantity(quantity)
    if quantity > request.quantity:
        raise InvalidInput(
            f"Approve at most the {request.quantity} kg requested (partial approval is fine).",
            field="quantity",
            code="exceeds_requested",
        )
    # Candidates read without locks, then locked (lots by id, then their positions) by the
    # inventory service; the free stock is read from the locked rows only.
    candidates = list(
        Lot.objects.filter(material_id=request.material_id, status=Lot.Status.AVAILABLE, on_hand__gt=F("reserved"))
    )
    locked = stock_lock(lots=candidates)
    lots = [lot for lot in locked.values() if lot.is_available and lot.on_hand > lot.reserved]
    free_total = sum((lot.on_hand - lot.reserved for lot in lots), Decimal("0"))
    if free_total < quantity:
        raise InsufficientStock(
            f"Only {free_total} kg is free to reserve; {quantity} kg cannot be approved now.",
            field="quantity",
            available=free_total,
        )
    left = quantity
    for lot in sorted(lots, key=lambda lot: (lot.received_date, lot.pk)):
        if left <= 0:
            break
        take = min(lot.on_hand - lot.reserved, left)
        lot_reserve(lot=lot, quantity=take)
        Reservation.objects.create(request=request, lot=lot, quantity=take)
        left -= take
    request.approved_quantity = quantity
    request.decided_at = timezone.now()
    _record(
        request,
        to=Status.APPROVED,
        by=by,
        comment=comment,
        quantity=quantity,
        fields=("approved_quantity", "decided_at"),
    )
    return request


@transaction.atomic
def drawdown_reject(*, request: DrawdownRequest, by, comment: str) -> DrawdownRequest:
    """submitted -> rejected; a reason (`comment`) is required and sent to the organization."""
    request = _lock(request)
    _check_actor(request, by)
    _require(request, Status.REJECTED)
    if not (comment or "").strip():
        raise InvalidInput("Say why the request is rejected.", field="comment", code="reason_required")
    request.decided_at = timezone.now()
    _record(request, to=Status.REJECTED, by=by, comment=comment, fields=("decided_at",))
    return request


@transaction.atomic
def drawdown_cancel(*, request: DrawdownRequest, by, comment: str = "") -> DrawdownRequest:
    """draft, submitted or approved -> cancelled. An approved request gives its reserved stock
    back to the lots it was reserved on."""
    request = _lock(request)
    _check_actor(request, by)
    _require(request, Status.CANCELLED)
    now = timezone.now()
    held = list(request.reservations.filter(state=Reservation.State.HELD).select_related("lot").order_by("lot_id"))
    stock_lock(lots=[reservation.lot for reservation in held])
    for reservation in held:
        lot_unreserve(lot=reservation.lot, quantity=reservation.quantity)
        reservation.state = Reservation.State.RELEASED
        reservation.closed_at = now
        reservation.save(update_fields=["state", "closed_at"])
    _record(request, to=Status.CANCELLED, by=by, comment=comment)
    return request


@transaction.atomic
def drawdown_fulfil(*, request: DrawdownRequest, by, comment: str = "") -> ReplenishmentObligation:
    """approved -> fulfilled: issue the reserved stock (one release movement per lot, which
    credits inventory at cost), post Dr receivables / Cr material sales at the locked price
    (and the premium to carrying-cost income), and open the replenishment obligation."""
    request = _lock(request)
    _check_actor(request, by)
    _require(request, Status.FULFILLED)
    agreement = ParticipationAgreement.objects.get(pk=request.agreement_id)
    organization = Organization.objects.get(pk=request.organization_id)
    material = Material.objects.get(pk=request.material_id)
    reference = f"DR-{request.pk}"
    now = timezone.now()
    today = timezone.localdate()
    held = list(request.reservations.filter(state=Reservation.State.HELD).select_related("lot").order_by("lot_id"))
    stock_lock(lots=[reservation.lot for reservation in held])
    for reservation in held:
        movement = movement_release(
            lot=reservation.lot,
            quantity=reservation.quantity,
            by=by,
            from_reserved=True,
            reference=reference,
            reason=f"Drawdown {reference} to {organization.code}",
        )
        reservation.state = Reservation.State.ISSUED
        reservation.movement = movement
        reservation.closed_at = now
        reservation.save(update_fields=["state", "movement", "closed_at"])
    drawn = request.approved_quantity
    assert drawn is not None  # an approved request has its quantity (a check constraint)
    premium = (drawn * agreement.premium_pct / Decimal("100")).quantize(QUANTUM, rounding=ROUND_HALF_UP)
    sale = _money(drawn * agreement.locked_price)
    premium_value = _money(premium * agreement.locked_price)
    if sale + premium_value > 0:
        entry_post(
            date=today,
            memo=(
                f"Drawdown {reference}: {drawn} kg {material.code} to {organization.code} "
                f"at {agreement.locked_price}/kg"
            ),
            lines=[
                Line(chart.RECEIVABLES, debit=sale + premium_value),
                Line(chart.MATERIAL_SALES, credit=sale),
                Line(chart.CARRYING_COST_INCOME, credit=premium_value),
            ],
            source_type="drawdown",
            source_id=request.pk,
            by=by,
        )
    obligation = ReplenishmentObligation.objects.create(
        request=request,
        organization=organization,
        material=material,
        drawn_quantity=drawn,
        premium_pct=agreement.premium_pct,
        premium_quantity=premium,
        quantity_due=drawn + premium,
        unit_price=agreement.locked_price,
        due_on=today + timedelta(days=agreement.replenishment_days),
        committed_on=request.replenish_by,
    )
    request.fulfilled_at = now
    _record(request, to=Status.FULFILLED, by=by, comment=comment, fields=("fulfilled_at",))
    return obligation


# --- replenishment ---------------------------------------------------------------------------


@transaction.atomic
def obligation_replenish(
    *,
    obligation: ReplenishmentObligation,
    by,
    quantity: Decimal,
    site: Site,
    mining_country: str,
    processing_country: str,
    received_date: date | None = None,
    lot_number: str = "",
    supplier: str = "",
    assay_certificate: str = "",
    comment: str = "",
) -> Replenishment:
    """Receive material in kind against an obligation: a new lot valued at the locked price,
    received against the receivable (Dr inventory / Cr receivables). When the obligation is
    fully replenished it closes and its request moves fulfilled -> replenished. More than the
    outstanding quantity is refused (InvalidInput, `quantity`)."""
    request = _lock(obligation.request)
    obligation = ReplenishmentObligation.objects.select_for_update(no_key=True).get(pk=obligation.pk)
    if obligation.status != ReplenishmentObligation.Status.OPEN:
        raise Conflict(
            f"Obligation {obligation.pk} is already fully replenished.", field="obligation", code="already_replenished"
        )
    quantity = parse_quantity(quantity)
    outstanding = obligation.quantity_due - obligation.replenished_quantity
    if quantity > outstanding:
        raise InvalidInput(
            f"Only {outstanding} kg is still due on this obligation.", field="quantity", code="exceeds_outstanding"
        )
    today = timezone.localdate()
    received_date = received_date or today
    if received_date > today:
        raise InvalidInput("A receipt cannot be dated in the future.", field="received_date", code="date_in_future")
    sequence = obligation.replenishments.count() + 1
    organization = Organization.objects.get(pk=obligation.organization_id)
    lot = lot_create(
        by=by,
        lot_number=lot_number or f"RPL-{request.pk}-{sequence}",
        material=Material.objects.get(pk=obligation.material_id),
        site=site,
        mining_country=mining_country,
        processing_country=processing_country,
        received_date=received_date,
        unit_cost=obligation.unit_price,
        supplier=supplier or organization.name,
        assay_certificate=assay_certificate,
        initial_quantity=quantity,
        contra_account=chart.RECEIVABLES,
        reference=f"DR-{request.pk}",
    )
    replenishment = Replenishment.objects.create(
        obligation=obligation, lot=lot, quantity=quantity, received_on=received_date, by=by
    )
    ReplenishmentObligation.objects.filter(pk=obligation.pk).update(
        replenished_quantity=F("replenished_quantity") + quantity
    )
    obligation.refresh_from_db(fields=["replenished_quantity"])
    if obligation.replenished_quantity == obligation.quantity_due:
        obligation.status = ReplenishmentObligation.Status.REPLENISHED
        obligation.closed_at = timezone.now()
        obligation.save(update_fields=["status", "closed_at"])
        _require(request, Status.REPLENISHED)
        _record(request, to=Status.REPLENISHED, by=by, comment=comment or f"Replenished {obligation.quantity_due} kg")
    return replenishment


# --- agreements and disruptions --------------------------------------------------------------


@transaction.atomic
def agreement_create(
    *,
    by,
    organization: Organization,
    material: Material,
    quantity: Decimal,
    locked_price: Decimal,
    replenishment_days: int,
    premium_pct: Decimal = Decimal("0"),
    upfront_fee: Decimal = Decimal("0"),
    reference: str = "",
) -> ParticipationAgreement:
    """Give an organization an entitlement in a material. One active agreement per organization
    and material (Conflict, `material`)."""
    if organization.kind != Organization.Kind.MANUFACTURER:
        raise InvalidInput(
            f"{organization.code} is not a participant manufacturer.", field="organization", code="not_a_participant"
        )
    quantity = parse_quantity(quantity)
    if locked_price is None or locked_price < 0:
        raise InvalidInput("The locked price cannot be negative.", field="locked_price", code="price_negative")
    if replenishment_days is None or replenishment_days < 1:
        raise InvalidInput(
            "The replenishment window is at least one day.",
            field="replenishment_days",
            code="replenishment_window_too_short",
        )
    if premium_pct is None or premium_pct < 0:
        raise InvalidInput("The premium cannot be negative.", field="premium_pct", code="premium_negative")
    if upfront_fee is None or upfront_fee < 0:
        raise InvalidInput("The upfront fee cannot be negative.", field="upfront_fee", code="fee_negative")
    duplicate = f"{organization.code} already holds an active entitlement in {material.code}."
    if ParticipationAgreement.objects.filter(organization=organization, material=material, active=True).exists():
        raise Conflict(duplicate, field="material", code="entitlement_exists")
    try:
        with transaction.atomic():
            return ParticipationAgreement.objects.create(
                organization=organization,
                material=material,
                quantity=quantity,
                locked_price=locked_price,
                replenishment_days=replenishment_days,
                premium_pct=premium_pct,
                upfront_fee=upfront_fee,
                reference=reference or "",
                created_by=by,
            )
    except IntegrityError:
        raise Conflict(duplicate, field="material", code="entitlement_exists") from None


@transaction.atomic
def agreement_fee_receive(*, agreement: ParticipationAgreement, by, received_on: date | None = None):
    """Record the agreement's upfront fee as received, once, through the financing app's fee
    register (Dr cash / Cr fee income, source "fee" / agreement id). Conflict when already
    recorded; InvalidInput when the agreement has no fee."""
    agreement = ParticipationAgreement.objects.select_for_update(no_key=True).get(pk=agreement.pk)
    if agreement.fee_received_at is not None:
        raise Conflict(
            "The upfront fee of this agreement is already recorded.", field="upfront_fee", code="fee_already_received"
        )
    if agreement.upfront_fee <= 0:
        raise InvalidInput("This agreement has no upfront fee.", field="upfront_fee", code="no_upfront_fee")
    received_on = received_on or timezone.localdate()
    organization = Organization.objects.get(pk=agreement.organization_id)
    material = Material.objects.get(pk=agreement.material_id)
    entry = fee_receive(
        organization=organization,
        amount=agreement.upfront_fee,
        date=received_on,
        memo=f"Upfront fee, entitlement {agreement.pk} ({organization.code} {material.code})",
        by=by,
        source_type="fee",
        source_id=agreement.pk,
    )
    agreement.fee_received_at = timezone.now()
    agreement.save(update_fields=["fee_received_at"])
    return entry


def _check_disruption_dates(*, starts_on: date, ends_on: date, today: date) -> None:
    """A disruption starts no more than VAULT_DISRUPTION_MAX_BACKDATE_DAYS before `today` (nor
    more than VAULT_DISRUPTION_MAX_LEAD_DAYS after it), ends on or after its start (a one-day
    disruption ends on the day it starts; the database CHECKs this too), and lasts at most
    VAULT_DISRUPTION_MAX_DAYS days, both ends included."""

    def out_of_range(message: str, field: str, **limit) -> InvalidInput:
        return InvalidInput(message, field=field, code="disruption_dates_out_of_range", **limit)

    earliest = today - timedelta(days=settings.VAULT_DISRUPTION_MAX_BACKDATE_DAYS)
    if starts_on < earliest:
        raise out_of_range(
            f"A disruption starts at most {settings.VAULT_DISRUPTION_MAX_BACKDATE_DAYS} days back, "
            f"on {earliest.isoformat()} or later.",
            "starts_on",
            earliest_starts_on=earliest.isoformat(),
        )
    latest = today + timedelta(days=settings.VAULT_DISRUPTION_MAX_LEAD_DAYS)
    if starts_on > latest:
        raise out_of_range(
            f"A disruption is declared at most {settings.VAULT_DISRUPTION_MAX_LEAD_DAYS} days ahead, "
            f"starting on {latest.isoformat()} or earlier.",
            "starts_on",
            latest_starts_on=latest.isoformat(),
        )
    if ends_on < starts_on:
        raise out_of_range("The disruption cannot end before it starts.", "ends_on")
    days = (ends_on - starts_on).days + 1
    if days > settings.VAULT_DISRUPTION_MAX_DAYS:
        # Computed from starts_on (sane by now), never from ends_on, which may be 9999-12-31.
        last = starts_on + timedelta(days=settings.VAULT_DISRUPTION_MAX_DAYS - 1)
        raise out_of_range(
            f"A disruption lasts at most {settings.VAULT_DISRUPTION_MAX_DAYS} days: it ends on "
            f"{last.isoformat()} or earlier (declare another one to extend it).",
            "ends_on",
            latest_ends_on=last.isoformat(),
        )


@transaction.atomic
def disruption_declare(
    *, by, materials: list[Material], starts_on: date, ends_on: date, reason: str, reference: str = ""
) -> DisruptionEvent:
    """Declare a supply disruption for `materials` from `starts_on` to `ends_on` (inclusive).

    Dates must be sane (see `_check_disruption_dates`): InvalidInput with code
    `disruption_dates_out_of_range` on `starts_on` or `ends_on` otherwise, nothing written."""
    if not materials:
        raise InvalidInput("Name at least one material.", field="materials", code="materials_required")
    _check_disruption_dates(starts_on=starts_on, ends_on=ends_on, today=timezone.localdate())
    if not (reason or "").strip():
        raise InvalidInput("Say what the disruption is.", field="reason", code="reason_required")
    event = DisruptionEvent.objects.create(
        starts_on=starts_on, ends_on=ends_on, reason=reason, reference=reference or "", declared_by=by
    )
    event.materials.set(materials)
    return event
