"""Daily interest accrual of the loans.

Guarantees: exactly one InterestAccrual per loan per day, on the principal outstanding at the
end of that day at the rate in force that day, each non-zero day posted Dr interest expense /
Cr interest payable on its date. Idempotent and safe under concurrent runs: the facility row is
locked before the last accrued day is read, and a unique (facility, date) constraint is the
last word."""

from __future__ import annotations

from bisect import bisect_right
from datetime import date as date_type
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction

from vault.core.errors import Conflict
from vault.financing import selectors
from vault.financing.models import DAYS_IN_YEAR, Facility, InterestAccrual, Tranche
from vault.financing.selectors import CENT, last_accrued_day
from vault.financing.services._common import facility_lock
from vault.ledger import chart
from vault.ledger.services import Line, entry_post

CARRY = Decimal("0.000000000001")  # the carry's places (InterestAccrual.carry)


def exact_daily_interest(principal: Decimal, rate_pct: Decimal, day_count: str) -> Decimal:
    """One day of interest, unrounded (to 12 places): principal x rate / 100 / 360 (or 365)."""
    return (principal * rate_pct / Decimal(100) / Decimal(DAYS_IN_YEAR[day_count])).quantize(CARRY)


def daily_interest(principal: Decimal, rate_pct: Decimal, day_count: str, carry: Decimal = Decimal("0")) -> Decimal:
    """One day of interest with the previous day's `carry`, rounded half-up to the cent (never
    below zero: a negative remainder waits for the next day)."""
    amount = (exact_daily_interest(principal, rate_pct, day_count) + carry).quantize(CENT, rounding=ROUND_HALF_UP)
    return max(amount, Decimal("0.00"))


def _principal_deltas(
    facility: Facility, disbursals: list[tuple[date_type | None, Decimal]]
) -> dict[date_type, Decimal]:
    """{day: disbursed less repaid that day}."""
    deltas: dict[date_type, Decimal] = {}
    for disbursed_on, amount in disbursals:
        assert disbursed_on is not None
        deltas[disbursed_on] = deltas.get(disbursed_on, Decimal("0")) + amount
    for day, amount in facility.repayments.values_list("date", "amount"):
        deltas[day] = deltas.get(day, Decimal("0")) - amount
    return deltas


def _accrual_rows(
    facility: Facility, deltas: dict[date_type, Decimal], start: date_type, through: date_type
) -> list[InterestAccrual]:
    """The unsaved accrual of each day from `start` through `through`."""
    rates = list(facility.rates.order_by("effective_from").values_list("effective_from", "rate_pct"))
    rate_days = [day for day, _ in rates]
    principal = sum((amount for day, amount in deltas.items() if day < start), Decimal("0"))
    previous = facility.accruals.filter(date__lt=start).order_by("-date").values_list("carry", flat=True).first()
    carry = previous if previous is not None else Decimal("0")
    rows = []
    day = start
    while day <= through:
        principal += deltas.get(day, Decimal("0"))
        index = bisect_right(rate_days, day) - 1
        rate = rates[index][1] if index >= 0 else Decimal("0")
        exact = exact_daily_interest(principal, rate, facility.day_count) + carry
        amount = daily_interest(principal, rate, facility.day_count, carry)
        carry = exact - amount
        rows.append(
            InterestAccrual(
                facility=facility,
                date=day,
                principal=principal,
                rate_pct=rate,
                day_count=facility.day_count,
                amount=amount,
                carry=carry,
            )
        )
        day += timedelta(days=1)
    return rows


def _accruals_post(facility: Facility, rows: list[InterestAccrual]) -> None:
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


@transaction.atomic
def interest_accrue(*, facility: Facility, through: date_type) -> list[InterestAccrual]:
    """Accrue a loan's interest for each day after its last accrual (or from its first
    disbursal) through `through`: one InterestAccrual per day on the principal outstanding at
    the end of that day (disbursals count from their day, repayments from theirs) at the rate in
    force that day, each non-zero day posted on its date. Private capital and undrawn loans
    accrue nothing. Returns the rows created."""
    facility = facility_lock(facility)
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
    deltas = _principal_deltas(facility, disbursals)
    rows = InterestAccrual.objects.bulk_create(_accrual_rows(facility, deltas, start, through))
    _accruals_post(facility, rows)
    return rows


def close_needs_accrued_interest(sender: object, *, through: date_type, **kwargs: object) -> None:
    """`period_closing` receiver: the books are not closed through a day whose interest some loan
    has not accrued yet (409 `interest_not_accrued`, naming the loans); accrue it first."""
    behind = selectors.loans_not_accrued_through(through)
    if behind:
        raise Conflict(
            f"Interest is not accrued through {through} for {', '.join(behind)}: accrue it before closing.",
            field="through",
            code="interest_not_accrued",
            facilities=", ".join(behind),
        )
