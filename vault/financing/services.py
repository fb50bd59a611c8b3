"""Writes to the financing of the reserve. Every function runs in one transaction and guarantees:

- the disbursed tranches of a facility never add up to more than its commitment, and repayments
  never exceed what was disbursed: the facility row is locked (SELECT ... FOR UPDATE) before the
  check, its maintained `disbursed`/`repaid` totals move with F() expressions under database CHECK
  constraints, and a deferred PostgreSQL trigger verifies at commit that those totals equal the
  sums of their tranche and repayment rows (so raw SQL cannot over-disburse either);
- every money event posts one balanced journal entry whose source points back at its row;
- nothing dated on or before the last accrued day of a loan is recorded (the accrual would be
  wrong), so interest already accrued never needs rewriting;
- on bad input a typed DomainError names the field, and nothing is written.

Locks are taken facility first, then tranche, everywhere.
"""

from __future__ import annotations

import csv
import io
from bisect import bisect_right
from dataclasses import dataclass
from datetime import date as date_type
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Max, Sum
from django.utils import timezone

from vault.accounts.models import Organization
from vault.core.errors import Conflict, InvalidInput, InvalidTransition, NotFound
from vault.core.history import history_as
from vault.core.numbers import MONEY, PRICE, RATE, parse_decimal
from vault.financing.models import (
    DAYS_IN_YEAR,
    DayCount,
    Facility,
    FeeReceipt,
    InterestAccrual,
    InterestPayment,
    InterestRate,
    PricePoint,
    Repayment,
    Tranche,
)
from vault.inventory.models import Material
from vault.ledger import chart
from vault.ledger.chart import AccountType
from vault.ledger.models import Account, JournalEntry
from vault.ledger.services import Line, account_open, entry_post

CENT = Decimal("0.01")


class CommitmentExceeded(InvalidInput):
    code = "over_commitment"


# --- helpers ------------------------------------------------------------------------------------


def _money(value, *, field: str = "amount") -> Decimal:
    """A positive USD amount with at most 2 decimals (cents), within numeric(20, 2)."""
    value = parse_decimal(value, field=field, digits=MONEY, what="Amounts")
    if value <= 0:
        raise InvalidInput("Amount must be greater than zero.", field=field, code="amount_not_positive")
    return value


def _rate(value, *, field: str = "interest_rate_pct") -> Decimal:
    value = parse_decimal(value, field=field, digits=RATE, what="Rates")
    if value < 0 or value >= 100:
        raise InvalidInput(
            "The annual rate is a percentage from 0 to under 100.", field=field, code="rate_out_of_range"
        )
    return value


def _not_future(day: date_type, *, field: str = "date") -> None:
    if day > timezone.localdate():
        raise InvalidInput(
            f"{day} is in the future; record money movements once they happen.", field=field, code="date_in_future"
        )


def _lock(facility: Facility) -> Facility:
    return Facility.objects.select_for_update().get(pk=facility.pk)


def last_accrued_day(facility: Facility) -> date_type | None:
    return InterestAccrual.objects.filter(facility=facility).aggregate(last=Max("date"))["last"]


def _after_accruals(facility: Facility, day: date_type, *, field: str = "date") -> None:
    last = last_accrued_day(facility)
    if last is not None and day <= last:
        raise Conflict(
            f"Interest on {facility.code} is accrued through {last}; record this after that day.",
            field=field,
            code="already_accrued",
        )


def _raise_validation(exc: ValidationError) -> None:
    field, messages = next(iter(exc.message_dict.items()))
    raise InvalidInput(" ".join(messages), field=field, code="facility_field_invalid")


# --- facilities ---------------------------------------------------------------------------------


def facility_account_codes(code: str, kind: str) -> tuple[str, str | None]:
    """The ledger accounts a facility opens: principal (loan payable or investor capital) and,
    for a loan, its interest payable."""
    if kind == Facility.Kind.LOAN:
        return f"{chart.LOAN_PAYABLE_PREFIX}-{code}", f"{chart.INTEREST_PAYABLE}-{code}"
    return f"{chart.INVESTOR_CAPITAL_PREFIX}-{code}", None


@transaction.atomic
def facility_create(
    *,
    code: str,
    name: str,
    kind: str,
    counterparty: str,
    commitment: Decimal,
    available_from: date_type,
    available_until: date_type,
    maturity_date: date_type,
    by,
    currency: str = Facility.Currency.USD,
    day_count: str = DayCount.ACT_360,
    interest_rate_pct: Decimal | None = None,
) -> Facility:
    """Create a facility and open its ledger accounts: loan payable `2100-<CODE>` and interest
    payable `2000-<CODE>` for a loan, investor capital `3100-<CODE>` for private capital. A
    loan needs `interest_rate_pct`, which becomes its rate from `available_from`. Raises
    InvalidInput (field named) on a taken code, bad amounts, dates out of order."""
    if kind not in Facility.Kind.values:
        raise InvalidInput(
            f"Unknown kind {kind!r}; choose one of {', '.join(Facility.Kind.values)}.",
            field="kind",
            code="facility_kind_unknown",
        )
    if currency not in Facility.Currency.values:
        raise InvalidInput("Facilities are in USD (the ledger's currency).", field="currency", code="currency_not_usd")
    if day_count not in DayCount.values:
        raise InvalidInput(
            f"Day count is one of {', '.join(DayCount.values)}.", field="day_count", code="day_count_unknown"
        )
    commitment = _money(commitment, field="commitment")
    if available_until < available_from:
        raise InvalidInput(
            "The availability period ends before it starts.", field="available_until", code="ends_before_start"
        )
    if maturity_date < available_until:
        raise InvalidInput(
            "Maturity comes on or after the end of the availability period.",
            field="maturity_date",
            code="maturity_before_availability_end",
        )
    if kind == Facility.Kind.LOAN and interest_rate_pct is None:
        raise InvalidInput(
            "A loan needs an annual interest rate.", field="interest_rate_pct", code="interest_rate_required"
        )
    if kind == Facility.Kind.PRIVATE_CAPITAL and interest_rate_pct is not None:
        raise InvalidInput(
            "Private capital bears no interest rate.", field="interest_rate_pct", code="private_capital_no_interest"
        )
    rate = _rate(interest_rate_pct) if interest_rate_pct is not None else None
    if Facility.objects.filter(code=code).exists():
        raise InvalidInput(f"Facility code {code} is already taken.", field="code", code="facility_code_taken")
    principal_code, interest_code = facility_account_codes(code, kind)
    if Account.objects.filter(code__in=[c for c in (principal_code, interest_code) if c]).exists():
        raise InvalidInput(f"Ledger accounts for {code} already exist.", field="code", code="facility_accounts_exist")
    facility = Facility(
        code=code,
        name=name,
        kind=kind,
        counterparty=counterparty,
        currency=currency,
        commitment=commitment,
        available_from=available_from,
        available_until=available_until,
        maturity_date=maturity_date,
        day_count=day_count,
        created_by=by,
    )
    try:
        facility.full_clean(exclude=["account", "interest_account"])
    except ValidationError as exc:
        _raise_validation(exc)
    if kind == Facility.Kind.LOAN:
        assert interest_code is not None  # facility_account_codes names both for a loan
        facility.account = account_open(
            code=principal_code, name=f"Loan payable, {code}", type=AccountType.LIABILITY, subledger=code
        )
        facility.interest_account = account_open(
            code=interest_code, name=f"Interest payable, {code}", type=AccountType.LIABILITY, subledger=code
        )
    else:
        facility.account = account_open(
            code=principal_code, name=f"Investor capital, {code}", type=AccountType.EQUITY, subledger=code
        )
    history_as(facility, by=by)
    facility.save()
    if rate is not None:
        InterestRate.objects.create(facility=facility, effective_from=available_from, rate_pct=rate, created_by=by)
    return facility


@transaction.atomic
def facility_update(
    *,
    facility: Facility,
    by,
    name: str | None = None,
    counterparty: str | None = None,
    commitment: Decimal | None = None,
    available_until: date_type | None = None,
    maturity_date: date_type | None = None,
) -> Facility:
    """Change the terms that may change. The commitment never goes below what is disbursed;
    the availability period never ends before a disbursed tranche."""
    facility = _lock(facility)
    changed: list[str] = []
    if name is not None and name != facility.name:
        facility.name, changed = name, [*changed, "name"]
    if counterparty is not None and counterparty != facility.counterparty:
        facility.counterparty, changed = counterparty, [*changed, "counterparty"]
    if commitment is not None:
        commitment = _money(commitment, field="commitment")
        if commitment < facility.disbursed:
            raise InvalidInput(
                f"{facility.code} has {facility.disbursed} disbursed; the commitment cannot be less.",
                field="commitment",
                code="commitment_below_disbursed",
            )
        facility.commitment, changed = commitment, [*changed, "commitment"]
    if available_until is not None:
        if available_until < facility.available_from:
            raise InvalidInput(
                "The availability period ends before it starts.", field="available_until", code="ends_before_start"
            )
        last_disbursal = facility.tranches.filter(status=Tranche.Status.DISBURSED).aggregate(d=Max("actual_date"))["d"]
        if last_disbursal and available_until < last_disbursal:
            raise InvalidInput(
                f"A tranche was disbursed on {last_disbursal}.",
                field="available_until",
                code="availability_ends_before_disbursal",
            )
        facility.available_until, changed = available_until, [*changed, "available_until"]
    if maturity_date is not None:
        facility.maturity_date, changed = maturity_date, [*changed, "maturity_date"]
    if facility.maturity_date < facility.available_until:
        raise InvalidInput(
            "Maturity comes on or after the end of the availability period.",
            field="maturity_date",
            code="maturity_before_availability_end",
        )
    if changed:
        history_as(facility, by=by)
        facility.save(update_fields=changed)
    return facility


@transaction.atomic
def facility_rate_set(*, facility: Facility, effective_from: date_type, rate_pct: Decimal, by) -> InterestRate:
    """Add a rate change to a loan's schedule, in force from `effective_from` until the next.
    Refused (409) on or before the last accrued day, or when a change already starts that day."""
    rate = _rate(rate_pct, field="rate_pct")
    if not facility.is_loan:
        raise InvalidInput(
            "Private capital bears no interest rate.", field="facility", code="private_capital_no_interest"
        )
    facility = _lock(facility)
    if effective_from < facility.available_from:
        raise InvalidInput(
            f"{facility.code} starts on {facility.available_from}.",
            field="effective_from",
            code="rate_before_availability",
        )
    _after_accruals(facility, effective_from, field="effective_from")
    if facility.rates.filter(effective_from=effective_from).exists():
        raise Conflict(f"A rate already starts on {effective_from}.", field="effective_from", code="rate_exists")
    return InterestRate.objects.create(facility=facility, effective_from=effective_from, rate_pct=rate, created_by=by)


# --- tranches -----------------------------------------------------------------------------------


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
def tranche_plan(*, facility: Facility, amount: Decimal, expected_date: date_type, by, purpose: str = "") -> Tranche:
    """Plan a draw: a positive amount in cents, no more than the facility's undrawn
    commitment, expected within its availability period."""
    amount = _money(amount)
    _check_within_availability(facility, expected_date, field="expected_date")
    facility = _lock(facility)
    _check_undrawn(facility, amount)
    tranche = Tranche(facility=facility, amount=amount, expected_date=expected_date, purpose=purpose, created_by=by)
    history_as(tranche, by=by)
    tranche.save()
    return tranche


def _lock_tranche(tranche: Tranche) -> tuple[Facility, Tranche]:
    facility = _lock(tranche.facility)
    return facility, Tranche.objects.select_for_update().get(pk=tranche.pk)


def _transition(tranche: Tranche, allowed: set[str], verb: str) -> None:
    if tranche.status not in allowed:
        raise InvalidTransition(f"A {tranche.status} tranche cannot be {verb}.", field="status")


@transaction.atomic
def tranche_approve(*, tranche: Tranche, by) -> Tranche:
    """planned -> approved, while the amount still fits in the undrawn commitment."""
    facility, tranche = _lock_tranche(tranche)
    _transition(tranche, {Tranche.Status.PLANNED}, "approved")
    _check_undrawn(facility, tranche.amount)
    tranche.status = Tranche.Status.APPROVED
    history_as(tranche, by=by)
    tranche.save(update_fields=["status"])
    return tranche


@transaction.atomic
def tranche_disburse(*, tranche: Tranche, by, date: date_type | None = None) -> Tranche:
    """approved -> disbursed on `date` (today by default): Dr cash / Cr loan payable (or
    investor capital). Guarantees the facility's disbursed tranches stay within its commitment
    under concurrent disbursals (facility row lock, then CHECK). Raises InvalidTransition (409)
    unless approved, Conflict (409) on or before the last accrued day, CommitmentExceeded (400)
    beyond the undrawn amount, InvalidInput (400) for a date in the future or outside the
    availability period."""
    day = date or timezone.localdate()
    _not_future(day)
    facility, tranche = _lock_tranche(tranche)
    _transition(tranche, {Tranche.Status.APPROVED}, "disbursed")
    _check_within_availability(facility, day, field="date")
    _after_accruals(facility, day)
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
def tranche_cancel(*, tranche: Tranche, by, reason: str = "") -> Tranche:
    """planned or approved -> cancelled. A disbursed tranche is repaid, never cancelled."""
    _, tranche = _lock_tranche(tranche)
    _transition(tranche, {Tranche.Status.PLANNED, Tranche.Status.APPROVED}, "cancelled")
    tranche.status = Tranche.Status.CANCELLED
    history_as(tranche, by=by, reason=reason)
    tranche.save(update_fields=["status"])
    return tranche


# --- repayments, interest payments, fees ----------------------------------------------------------


@transaction.atomic
def repayment_create(*, facility: Facility, amount: Decimal, date: date_type, by, memo: str = "") -> Repayment:
    """Pay back principal (a loan) or return capital: Dr loan payable (investor capital) /
    Cr cash. Never more than outstanding on `date`; dated on or after the previous repayment
    and after the last accrued day."""
    amount = _money(amount)
    _not_future(date)
    facility = _lock(facility)
    last_repayment = facility.repayments.aggregate(d=Max("date"))["d"]
    if last_repayment and date < last_repayment:
        raise InvalidInput(
            f"A repayment is already recorded on {last_repayment}; record in order.", field="date", code="out_of_order"
        )
    _after_accruals(facility, date)
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
    repayment = Repayment.objects.create(facility=facility, amount=amount, date=date, memo=memo, created_by=by)
    Facility.objects.filter(pk=facility.pk).update(repaid=F("repaid") + amount)
    entry_post(
        date=date,
        memo=memo or f"{'Principal repaid' if facility.is_loan else 'Capital returned'}: {facility.code}",
        lines=[Line(facility.account.code, debit=amount), Line(chart.CASH, credit=amount)],
        source_type="repayment",
        source_id=repayment.pk,
        by=by,
    )
    return repayment


def interest_payable(facility: Facility, *, as_of: date_type | None = None) -> Decimal:
    """Interest accrued and not yet paid (through `as_of`)."""
    accruals = facility.accruals.all()
    payments = facility.interest_payments.all()
    if as_of:
        accruals, payments = accruals.filter(date__lte=as_of), payments.filter(date__lte=as_of)
    accrued = accruals.aggregate(total=Sum("amount"))["total"] or Decimal("0")
    paid = payments.aggregate(total=Sum("amount"))["total"] or Decimal("0")
    return (accrued - paid).quantize(CENT)


@transaction.atomic
def interest_pay(*, facility: Facility, amount: Decimal, date: date_type, by, memo: str = "") -> InterestPayment:
    """Pay accrued interest to the lender: Dr interest payable / Cr cash; never more than the
    interest accrued and unpaid by `date`."""
    amount = _money(amount)
    _not_future(date)
    if not facility.is_loan:
        raise InvalidInput("Private capital bears no interest.", field="facility", code="private_capital_no_interest")
    facility = _lock(facility)
    payable = interest_payable(facility, as_of=date)
    later = facility.interest_payments.filter(date__gt=date).exists()
    if later:
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
    payment = InterestPayment.objects.create(facility=facility, amount=amount, date=date, memo=memo, created_by=by)
    assert facility.interest_account is not None  # a loan has one (facility_create)
    entry_post(
        date=date,
        memo=memo or f"Interest paid: {facility.code}",
        lines=[Line(facility.interest_account.code, debit=amount), Line(chart.CASH, credit=amount)],
        source_type="interest_payment",
        source_id=payment.pk,
        by=by,
    )
    return payment


@transaction.atomic
def fee_receive(
    *,
    organization: Organization | str,
    amount: Decimal,
    date: date_type,
    memo: str,
    by,
    source_type: str,
    source_id: int | None,
) -> JournalEntry:
    """Record a fee received from a participant: Dr cash / Cr fee income, one entry linked to
    (`source_type`, `source_id`), and a FeeReceipt row for the fee register. Returns the entry
    (its `fee_receipt` is the row). Raises InvalidInput on a bad amount or an unknown
    organization (a code may be given instead of the instance)."""
    amount = _money(amount)
    if isinstance(organization, str):
        found = Organization.objects.filter(code=organization).first()
        if found is None:
            raise NotFound(f"No organization {organization}.", field="organization", code="organization_not_found")
        organization = found
    if not source_type:
        raise InvalidInput("Name what the fee is for (source_type).", field="source_type", code="source_type_required")
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


# --- interest accrual ---------------------------------------------------------------------------


def daily_interest(principal: Decimal, rate_pct: Decimal, day_count: str) -> Decimal:
    """One day of interest, rounded half-up to the cent: principal x rate / 100 / 360 (or 365)."""
    return (principal * rate_pct / Decimal(100) / Decimal(DAYS_IN_YEAR[day_count])).quantize(
        CENT, rounding=ROUND_HALF_UP
    )


@transaction.atomic
def interest_accrue(*, facility: Facility, through: date_type) -> list[InterestAccrual]:
    """Accrue a loan's interest for each day after its last accrual (or from its first
    disbursal) through `through`: one InterestAccrual per day on the principal outstanding at
    the end of that day (disbursals count from their day, repayments from theirs) at the rate in
    force that day, each non-zero day posted Dr interest expense / Cr interest payable on its
    date. Idempotent and safe under concurrent runs: the facility row is locked before reading
    the last accrued day, and a unique (facility, date) constraint is the last word."""
    facility = _lock(facility)
    if not facility.is_loan:
        return []
    disbursals = list(
        facility.tranches.filter(status=Tranche.Status.DISBURSED)
        .order_by("actual_date")
        .values_list("actual_date", "amount")
    )
    if not disbursals:
        return []
    last = last_accrued_day(facility)
    first_disbursal = disbursals[0][0]
    assert first_disbursal is not None  # a disbursed tranche has its date (a check constraint)
    start: date_type = last + timedelta(days=1) if last else first_disbursal
    if start > through:
        return []
    deltas: dict[date_type, Decimal] = {}
    for disbursed_on, amount in disbursals:
        assert disbursed_on is not None
        deltas[disbursed_on] = deltas.get(disbursed_on, Decimal("0")) + amount
    for day, amount in facility.repayments.values_list("date", "amount"):
        deltas[day] = deltas.get(day, Decimal("0")) - amount
    rates = list(facility.rates.order_by("effective_from").values_list("effective_from", "rate_pct"))
    rate_days = [day for day, _ in rates]
    principal = sum((amount for day, amount in deltas.items() if day < start), Decimal("0"))
    rows = []
    day = start
    while day <= through:
        principal += deltas.get(day, Decimal("0"))
        index = bisect_right(rate_days, day) - 1
        rate = rates[index][1] if index >= 0 else Decimal("0")
        rows.append(
            InterestAccrual(
                facility=facility,
                date=day,
                principal=principal,
                rate_pct=rate,
                day_count=facility.day_count,
                amount=daily_interest(principal, rate, facility.day_count),
            )
        )
        day += timedelta(days=1)
    rows = InterestAccrual.objects.bulk_create(rows)
    assert facility.interest_account is not None  # a loan has one (facility_create)
    for row in rows:
        if row.amount == 0:
            continue
        entry_post(
            date=row.date,
            memo=f"Interest {facility.code} {row.date}: {row.principal} at {row.rate_pct.normalize()}% {row.day_count}",
            lines=[
                Line(chart.INTEREST_EXPENSE, debit=row.amount),
                Line(facility.interest_account.code, credit=row.amount),
            ],
            source_type="accrual",
            source_id=row.pk,
        )
    return rows


# --- market prices ------------------------------------------------------------------------------


def _price(value, *, field: str = "usd_per_kg") -> Decimal:
    value = parse_decimal(value, field=field, digits=PRICE, what="Prices")
    if value < 0:
        raise InvalidInput("A price is not negative.", field=field, code="price_negative")
    return value


@transaction.atomic
def price_point_create(*, material: Material, date: date_type, usd_per_kg: Decimal, source: str, by) -> PricePoint:
    """Record one market price; one per material, day and source (409 when it exists)."""
    price = _price(usd_per_kg)
    if not source.strip():
        raise InvalidInput(
            "Name the source of the price (an assessment, a quote).", field="source", code="source_required"
        )
    if PricePoint.objects.filter(material=material, date=date, source=source.strip()).exists():
        raise Conflict(f"{material.code} already has a {source} price on {date}.", field="date", code="price_exists")
    return PricePoint.objects.create(
        material=material, date=date, usd_per_kg=price, source=source.strip(), created_by=by
    )


@transaction.atomic
def price_point_delete(*, price_point: PricePoint, by) -> None:
    """Remove a market price recorded by mistake (the admin's delete). Nothing stored depends
    on a price: the valuation reads them when asked. `by` is who removes it (the admin logs it)."""
    PricePoint.objects.filter(pk=price_point.pk).delete()


@dataclass(frozen=True)
class PriceImport:
    created: int
    updated: int


PRICE_COLUMNS = ("material", "date", "usd_per_kg", "source")


@transaction.atomic
def price_points_import(*, text: str, by, default_source: str = "") -> PriceImport:
    """Import prices from CSV text with a header `material,date,usd_per_kg,source` (source may
    be omitted when `default_source` is given). All or nothing: any bad row raises InvalidInput
    (field `file`) listing the line numbers; a row for an existing material, day and source
    updates its price."""
    try:
        return _price_points_import(text=text, by=by, default_source=default_source)
    except csv.Error as exc:
        raise InvalidInput(
            f"Nothing imported: the file is not a readable CSV ({exc}).", field="file", code="csv_unreadable"
        )


def _price_points_import(*, text: str, by, default_source: str) -> PriceImport:
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [(name or "").strip().lower() for name in (reader.fieldnames or [])]
    reader.fieldnames = header
    required = [c for c in PRICE_COLUMNS if c != "source" or not default_source]
    missing = [c for c in required if c not in header]
    if missing:
        raise InvalidInput(
            f"The CSV needs the columns {', '.join(PRICE_COLUMNS)}; missing {', '.join(missing)}.",
            field="file",
            code="csv_header_invalid",
        )
    materials = {m.code: m for m in Material.objects.all()}
    parsed: dict[tuple[int, date_type, str], Decimal] = {}
    errors: list[str] = []
    for line_no, row in enumerate(reader, start=2):
        code = (row.get("material") or "").strip()
        source = (row.get("source") or "").strip() or default_source
        try:
            if code not in materials:
                raise InvalidInput(f"unknown material {code!r}", code="material_unknown")
            try:
                day = date_type.fromisoformat((row.get("date") or "").strip())
            except ValueError:
                raise InvalidInput(f"date {row.get('date')!r} is not YYYY-MM-DD", code="date_malformed")
            price = _price((row.get("usd_per_kg") or "").strip())
            if not source:
                raise InvalidInput("no source", code="source_required")
        except InvalidInput as exc:
            errors.append(f"line {line_no}: {exc.message}")
            continue
        parsed[(materials[code].pk, day, source[:100])] = price
    if errors:
        shown = "; ".join(errors[:10]) + (f"; and {len(errors) - 10} more" if len(errors) > 10 else "")
        raise InvalidInput(f"Nothing imported. {shown}.", field="file", code="price_rows_invalid")
    if not parsed:
        raise InvalidInput("The CSV has no price rows.", field="file", code="no_rows")
    existing = {
        (m, d, s)
        for m, d, s in PricePoint.objects.filter(
            material_id__in={k[0] for k in parsed}, date__in={k[1] for k in parsed}
        ).values_list("material_id", "date", "source")
    }
    PricePoint.objects.bulk_create(
        [
            PricePoint(material_id=m, date=d, source=s, usd_per_kg=price, created_by=by)
            for (m, d, s), price in parsed.items()
        ],
        update_conflicts=True,
        unique_fields=["material", "date", "source"],
        update_fields=["usd_per_kg"],
    )
    updated = len(existing & parsed.keys())
    return PriceImport(created=len(parsed) - updated, updated=updated)
