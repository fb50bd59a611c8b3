"""Participation agreements: an organization's entitlement in a material at a locked price,
and the upfront fee it pays once. Guarantees: one active agreement per organization and
material (Conflict, `entitlement_exists`, also when a concurrent creation wins the database's
unique constraint); the fee is posted at most once, the agreement row locked while it is."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone

from vault.accounts.models import Organization, User
from vault.core.errors import Conflict, InvalidInput
from vault.core.numbers import parse_quantity
from vault.drawdowns.domain import agreement_terms_check
from vault.drawdowns.models import ParticipationAgreement
from vault.financing.services import fee_receive
from vault.inventory.models import Material
from vault.ledger.models import JournalEntry


@transaction.atomic
def agreement_create(
    *,
    by: User,
    organization: Organization,
    material: Material,
    quantity: Decimal,
    locked_price: Decimal,
    replenishment_days: int,
    premium_pct: Decimal = Decimal("0"),
    upfront_fee: Decimal = Decimal("0"),
    reference: str = "",
) -> ParticipationAgreement:
    """Give an organization an entitlement in a material. Only a participant manufacturer
    (InvalidInput, `not_a_participant`); the terms as `domain.agreement_terms_check` says; one
    active agreement per organization and material (Conflict, `material`)."""
    if organization.kind != Organization.Kind.MANUFACTURER:
        raise InvalidInput(
            f"{organization.code} is not a participant manufacturer.", field="organization", code="not_a_participant"
        )
    quantity = parse_quantity(quantity)
    agreement_terms_check(
        locked_price=locked_price,
        replenishment_days=replenishment_days,
        premium_pct=premium_pct,
        upfront_fee=upfront_fee,
    )
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
def agreement_fee_receive(
    *, agreement: ParticipationAgreement, by: User, received_on: date | None = None
) -> JournalEntry:
    """Record the agreement's upfront fee as received, once, through the financing app's fee
    register (Dr cash / Cr fee income, source "fee" / agreement id), the agreement locked.
    Conflict (`fee_already_received`) when already recorded; InvalidInput (`no_upfront_fee`)
    when the agreement has no fee."""
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
