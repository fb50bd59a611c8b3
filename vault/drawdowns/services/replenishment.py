"""What a fulfilled drawdown owes back and its receipts in kind. Guarantees: a fulfilment posts
Dr receivables / Cr material sales (and the premium to carrying-cost income) at the locked
price and opens one obligation for the drawn quantity plus the premium; a replenishment never
exceeds what is still due (`exceeds_outstanding`), comes in as a new lot valued at the locked
price against the receivable, and the obligation that is met closes and moves its request
fulfilled -> replenished. Lock order: request, then obligation, then lots."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from vault.accounts.models import Organization, User
from vault.core.errors import Conflict, InvalidInput
from vault.core.numbers import parse_quantity
from vault.drawdowns.domain import Fulfilment, Status, transition_require
from vault.drawdowns.models import DrawdownRequest, ParticipationAgreement, Replenishment, ReplenishmentObligation
from vault.drawdowns.services._common import request_lock, transition_record
from vault.inventory.models import Material, Site
from vault.inventory.services import lot_create
from vault.ledger import chart
from vault.ledger.services import Line, entry_post


def receivable_post(
    *,
    request: DrawdownRequest,
    agreement: ParticipationAgreement,
    figures: Fulfilment,
    organization: Organization,
    material: Material,
    by: User,
    on: date,
) -> None:
    """Post the draw's receivable (sale plus premium value) on `on`; nothing when it is zero."""
    if figures.receivable <= 0:
        return
    entry_post(
        date=on,
        memo=(
            f"Drawdown {request.number}: {figures.drawn} kg {material.code} to {organization.code} "
            f"at {agreement.locked_price}/kg"
        ),
        lines=[
            Line(chart.RECEIVABLES, debit=figures.receivable),
            Line(chart.MATERIAL_SALES, credit=figures.sale),
            Line(chart.CARRYING_COST_INCOME, credit=figures.premium_value),
        ],
        source_type="drawdown",
        source_id=request.pk,
        by=by,
    )


def obligation_open(
    *,
    request: DrawdownRequest,
    agreement: ParticipationAgreement,
    figures: Fulfilment,
    organization: Organization,
    material: Material,
    on: date,
) -> ReplenishmentObligation:
    """The obligation of a draw made on `on`: due at the end of the agreement's window, the
    participant's commitment date kept beside it."""
    return ReplenishmentObligation.objects.create(
        request=request,
        organization=organization,
        material=material,
        drawn_quantity=figures.drawn,
        premium_pct=agreement.premium_pct,
        premium_quantity=figures.premium,
        quantity_due=figures.quantity_due,
        unit_price=agreement.locked_price,
        due_on=on + timedelta(days=agreement.replenishment_days),
        committed_on=request.replenish_by,
    )


def _open_obligation_lock(obligation: ReplenishmentObligation) -> ReplenishmentObligation:
    """The obligation locked FOR NO KEY UPDATE; Conflict (`already_replenished`) once closed."""
    obligation = ReplenishmentObligation.objects.select_for_update(no_key=True).get(pk=obligation.pk)
    if obligation.status != ReplenishmentObligation.Status.OPEN:
        raise Conflict(
            f"Obligation {obligation.pk} is already fully replenished.", field="obligation", code="already_replenished"
        )
    return obligation


def _receipt_check(
    *, obligation: ReplenishmentObligation, quantity: Decimal, received_date: date | None
) -> tuple[Decimal, date]:
    """The parsed quantity, at most what is outstanding (`exceeds_outstanding`), and the receipt
    date, today when not given and never in the future (`date_in_future`)."""
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
    return quantity, received_date


def _close_when_met(*, obligation: ReplenishmentObligation, request: DrawdownRequest, by: User, comment: str) -> None:
    """Once the replenished quantity reaches what is due, close the obligation and move its
    request fulfilled -> replenished."""
    obligation.refresh_from_db(fields=["replenished_quantity"])
    if obligation.replenished_quantity != obligation.quantity_due:
        return
    obligation.status = ReplenishmentObligation.Status.REPLENISHED
    obligation.closed_at = timezone.now()
    obligation.save(update_fields=["status", "closed_at"])
    transition_require(request, Status.REPLENISHED)
    transition_record(
        request, to=Status.REPLENISHED, by=by, comment=comment or f"Replenished {obligation.quantity_due} kg"
    )


@transaction.atomic
def obligation_replenish(
    *,
    obligation: ReplenishmentObligation,
    by: User,
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
    fully replenished it closes and its request moves fulfilled -> replenished. Refused:
    a closed obligation (Conflict, `already_replenished`), more than is outstanding
    (InvalidInput, `quantity`), a receipt dated in the future (`received_date`)."""
    request = request_lock(obligation.request)
    obligation = _open_obligation_lock(obligation)
    quantity, received_date = _receipt_check(obligation=obligation, quantity=quantity, received_date=received_date)
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
        reference=request.number,
    )
    replenishment = Replenishment.objects.create(
        obligation=obligation, lot=lot, quantity=quantity, received_on=received_date, by=by
    )
    ReplenishmentObligation.objects.filter(pk=obligation.pk).update(
        replenished_quantity=F("replenished_quantity") + quantity
    )
    _close_when_met(obligation=obligation, request=request, by=by, comment=comment)
    return replenishment
