"""Money paid on a facility (repayments, interest payments) and fees received.

Guarantees: repayments never exceed what was disbursed by their day (the facility row is
locked before the check, its maintained `repaid` total moves with an F() expression under a
CHECK constraint, and a deferred PostgreSQL trigger verifies at commit that it equals the sum
of the repayment rows); interest paid never exceeds the interest accrued and unpaid; payments
are recorded in date order, never in the future, never on or before the last accrued day
(repayments). Every one posts one balanced journal entry whose source points back at its row."""

from __future__ import annotations

from datetime import date as date_type
from decimal import Decimal
from typing import TypeVar

from django.db import transaction
from django.db.models import F, Max, Sum

from vault.accounts.models import Organization, User
from vault.core.errors import Conflict, InvalidInput, NotFound
from vault.financing.models import Facility, FeeReceipt, InterestPayment, Repayment, Tranche
from vault.financing.parsing import parse_money
from vault.financing.selectors import CENT, interest_payable
from vault.financing.services._common import check_after_accruals, check_not_future, facility_lock
from vault.ledger import chart
from vault.ledger.models import JournalEntry
from vault.ledger.services import Line, entry_post

P = TypeVar("P", Repayment, InterestPayment)


def _paid_out(
    model: type[P], *, facility: Facility, account: str, amount: Decimal, date: date_type, memo: str, by: User
) -> P:
    """The payment's row and its entry, Dr `account` / Cr cash, source the row (`repayment`,
    `interest_payment`); the entry's memo is the row's, else what was paid."""
    payment = model.objects.create(facility=facility, amount=amount, date=date, memo=memo, created_by=by)
    if model is Repayment:
        source_type, what = "repayment", "Principal repaid" if facility.is_loan else "Capital returned"
    else:
        source_type, what = "interest_payment", "Interest paid"
    entry_post(
        date=date,
        memo=memo or f"{what}: {facility.code}",
        lines=[Line(account, debit=amount), Line(chart.CASH, credit=amount)],
        source_type=source_type,
        source_id=payment.pk,
        by=by,
    )
    return payment


@transaction.atomic
def repayment_create(*, facility: Facility, amount: Decimal, date: date_type, by: User, memo: str = "") -> Repayment:
    """Pay back principal (a loan) or return capital: Dr loan payable (investor capital) /
    Cr cash. Never more than outstanding on `date` (`exceeds_outstanding`); dated on or after
    the previous repayment (`out_of_order`) and after the last accrued day."""
    amount = parse_money(amount)
    check_not_future(date)
    facility = facility_lock(facility)
    last_repayment = facility.repayments.aggregate(d=Max("date"))["d"]
    if last_repayment and date < last_repayment:
        raise InvalidInput(
            f"A repayment is already recorded on {last_repayment}; record in order.", field="date", code="out_of_order"
        )
    check_after_accruals(facility, date)
    disbursed_by_then = facility.tranches.filter(status=Tranche.Status.DISBURSED, actual_date__lte=date).aggregate(
        total=Sum("amount")
    )["total"] or Decimal("0")
    outstanding = (disbursed_by_then - facility.repaid).quantize(CENT)
    if amount > outstanding:
        raise InvalidInput(
            f"Only {outstanding} is outstanding on {facility.code} on {date}.",
            field="amount",
            code="exceeds_outstanding",
        )
    repayment = _paid_out(
        Repayment, facility=facility, account=facility.account.code, amount=amount, date=date, memo=memo, by=by
    )
    Facility.objects.filter(pk=facility.pk).update(repaid=F("repaid") + amount)
    return repayment


@transaction.atomic
def interest_pay(*, facility: Facility, amount: Decimal, date: date_type, by: User, memo: str = "") -> InterestPayment:
    """Pay accrued interest to the lender: Dr interest payable / Cr cash; never more than the
    interest accrued and unpaid by `date` (`exceeds_interest_payable`), never before an
    interest payment already recorded (`out_of_order`); a loan's only
    (`private_capital_no_interest`)."""
    amount = parse_money(amount)
    check_not_future(date)
    if not facility.is_loan:
        raise InvalidInput("Private capital bears no interest.", field="facility", code="private_capital_no_interest")
    facility = facility_lock(facility)
    payable = interest_payable(facility, as_of=date)
    if facility.interest_payments.filter(date__gt=date).exists():
        raise InvalidInput(
            "An interest payment is already recorded after that date; record in order.",
            field="date",
            code="out_of_order",
        )
    if amount > payable:
        raise InvalidInput(
            f"Only {payable} of interest is payable on {facility.code} on {date}.",
            field="amount",
            code="exceeds_interest_payable",
        )
    assert facility.interest_account is not None  # a loan has one (facility_create)
    return _paid_out(
        InterestPayment,
        facility=facility,
        account=facility.interest_account.code,
        amount=amount,
        date=date,
        memo=memo,
        by=by,
    )


@transaction.atomic
def fee_receive(
    *,
    organization: Organization | str,
    amount: Decimal,
    date: date_type,
    memo: str,
    by: User,
    source_type: str,
    source_id: int | None,
) -> JournalEntry:
    """Record a fee received from a participant: Dr cash / Cr fee income, one entry linked to
    (`source_type`, `source_id`), and a FeeReceipt row for the fee register. Returns the entry
    (its `fee_receipt` is the row). Raises InvalidInput on a bad amount or a missing
    `source_type`, NotFound on an unknown organization (a code may be given instead of the
    instance), Conflict `fee_already_received` when the source's fee is recorded already (a unique
    constraint holds it under concurrent calls too)."""
    amount = parse_money(amount)
    if isinstance(organization, str):
        found = Organization.objects.filter(code=organization).first()
        if found is None:
            raise NotFound(f"No organization {organization}.", field="organization", code="organization_not_found")
        organization = found
    if not source_type:
        raise InvalidInput("Name what the fee is for (source_type).", field="source_type", code="source_type_required")
    if source_id is not None and FeeReceipt.objects.filter(source_type=source_type[:32], source_id=source_id).exists():
        raise Conflict(
            f"The fee for {source_type}:{source_id} is already recorded.",
            field="source_id",
            code="fee_already_received",
        )
    entry = entry_post(
        date=date,
        memo=memo or f"Fee received from {organization.code}",
        lines=[Line(chart.CASH, debit=amount), Line(chart.FEE_INCOME, credit=amount)],
        source_type=source_type[:32],
        source_id=source_id,
        by=by,
    )
    FeeReceipt.objects.create(
        organization=organization,
        amount=amount,
        date=date,
        memo=memo,
        source_type=source_type[:32],
        source_id=source_id,
        entry=entry,
        created_by=by,
    )
    return entry
