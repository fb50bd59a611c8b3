"""Coverage days: pure functions, no ORM, no clock. Quantities are Decimal kilograms, dates are
`datetime.date`. The arithmetic inside is exact (fractions), so that results never depend on
the order of additions; results are rounded *down* to one decimal, so coverage is never
overstated.

Rules of the forward walk (see docs/coverage.md):

- Day 0 is `today` and counts as a full day of consumption.
- Each day consumes its month's forecast divided by the number of days of that month. A month
  without a forecast row inside the horizon consumes nothing.
- Confirmed inbound is added at the *start* of its day, before that day's consumption (a receipt
  expected today is usable today). Inbound dated before `today` is ignored: it has either been
  received (and is in stock) or is late and must be re-dated.
- Coverage is the time until the stock first falls short, in days with the fraction of the
  last day: the walk stops on the first day whose consumption `r` is more than the stock `s` at
  its start (after that day's inbound), giving `day + s / r`; that day is the depletion date.
  Stock that reaches zero exactly at the end of a day has covered that day, and inbound the next
  morning still counts.
- The horizon ends on the last day of the latest forecast month. Stock left at the horizon's end
  gives "at least N days" (`beyond_horizon`, N = days from today to the horizon end inclusive).
- No demand from today to the horizon end (or no forecast at all) means unbounded coverage
  (`days is None`).
"""

from __future__ import annotations

import calendar
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_DOWN, Decimal
from fractions import Fraction

ONE_DP = Decimal("0.1")
SHARE_DP = Decimal("0.0001")
ZERO = Decimal("0")


class Status:
    OK = "ok"
    WARNING = "warning"
    BREACH = "breach"
    NO_DEMAND = "no-demand"

    choices = [(OK, "OK"), (WARNING, "Warning"), (BREACH, "Breach"), (NO_DEMAND, "No demand")]


@dataclass(frozen=True)
class ForwardCoverage:
    days: Decimal | None  # None: unbounded (no demand)
    beyond_horizon: bool  # True: `days` is a lower bound ("at least")
    depletion_date: date | None  # the day the stock runs out; None when it does not in the horizon


@dataclass(frozen=True)
class Concentration:
    mining: dict[str, Decimal]  # country -> share of usable stock, 0..1, 4 dp
    processing: dict[str, Decimal]
    china_mining: Decimal
    china_processing: Decimal
    flagged: bool  # one country holds more than the limit, by mining or by processing


def month_start(day: date) -> date:
    return day.replace(day=1)


def days_in_month(month: date) -> int:
    return calendar.monthrange(month.year, month.month)[1]


def next_month(month: date) -> date:
    return date(month.year + (month.month == 12), month.month % 12 + 1, 1)


def floor_1dp(value: Fraction) -> Decimal:
    """Round a non-negative exact value down to one decimal."""
    return (Decimal(math.floor(value * 10)) / 10).quantize(ONE_DP)


def _fraction(value: Decimal | int) -> Fraction:
    return Fraction(value)


def forecast_horizon_end(monthly_demand: Mapping[date, Decimal], today: date) -> date | None:
    """The last day of the latest forecast month on or after today's month."""
    current = month_start(today)
    months = [m for m in monthly_demand if m >= current]
    if not months:
        return None
    last = max(months)
    return last.replace(day=days_in_month(last))


def forward_coverage(
    *,
    stock: Decimal,
    today: date,
    monthly_demand: Mapping[date, Decimal],
    inbound: Iterable[tuple[date, Decimal]] = (),
) -> ForwardCoverage:
    """Forward coverage of `stock` against `monthly_demand` (month start -> kg) with inbound
    receipts `(date, kg)`. Walks month segments split at inbound dates, not single days."""
    horizon_end = forecast_horizon_end(monthly_demand, today)
    if horizon_end is None:
        return ForwardCoverage(days=None, beyond_horizon=False, depletion_date=None)
    demand = {month_start(m): _fraction(q) for m, q in monthly_demand.items() if q}
    current = month_start(today)
    if not any(q > 0 for m, q in demand.items() if current <= m <= horizon_end):
        return ForwardCoverage(days=None, beyond_horizon=False, depletion_date=None)

    receipts: dict[int, Fraction] = {}
    for day, quantity in inbound:
        if today <= day <= horizon_end and quantity:
            offset = (day - today).days
            receipts[offset] = receipts.get(offset, Fraction(0)) + _fraction(quantity)
    horizon_days = (horizon_end - today).days + 1

    # Segment boundaries (day offsets from today): month starts and receipt days.
    boundaries = set(receipts)
    month = next_month(current)
    while month <= horizon_end:
        boundaries.add((month - today).days)
        month = next_month(month)
    boundaries.add(0)
    points = sorted(boundaries) + [horizon_days]

    level = max(_fraction(stock), Fraction(0))
    for start, end in zip(points, points[1:], strict=False):
        level += receipts.get(start, 0)
        day = today + timedelta(days=start)
        month = month_start(day)
        rate = demand.get(month, Fraction(0)) / days_in_month(month)
        if rate <= 0:
            continue
        length = end - start
        if level < rate * length:
            lasts = level / rate  # days into this segment
            # The depletion date is the first day whose consumption is not fully met.
            return ForwardCoverage(
                days=floor_1dp(start + lasts),
                beyond_horizon=False,
                depletion_date=today + timedelta(days=start + math.floor(lasts)),
            )
        level -= rate * length
    return ForwardCoverage(days=Decimal(horizon_days).quantize(ONE_DP), beyond_horizon=True, depletion_date=None)


def trailing_coverage(*, stock: Decimal, released: Decimal, window_days: int) -> Decimal | None:
    """Usable stock / average daily release over the window (IEA days of cover). None when
    nothing was released in the window (unbounded)."""
    if window_days < 1:
        raise ValueError("window_days must be at least 1")
    if released <= 0:
        return None
    if stock <= 0:
        return Decimal("0.0")
    return floor_1dp(_fraction(stock) * window_days / _fraction(released))


def coverage_status(*, days: Decimal | None, target_days: int, warning_band: Decimal = Decimal("0.20")) -> str:
    """breach below target; warning from the target up to (not including) target * (1 + band);
    ok above; no-demand when coverage is unbounded. A lower bound ("at least N") is judged as
    N: coverage that the forecast horizon cannot show is not assumed."""
    if days is None:
        return Status.NO_DEMAND
    if days < target_days:
        return Status.BREACH
    if days < Decimal(target_days) * (1 + warning_band):
        return Status.WARNING
    return Status.OK


def _shares(holdings: Mapping[str, Decimal]) -> dict[str, Decimal]:
    total = sum((q for q in holdings.values() if q > 0), ZERO)
    if total <= 0:
        return {}
    shares = {
        country: (quantity / total).quantize(SHARE_DP, rounding=ROUND_DOWN)
        for country, quantity in holdings.items()
        if quantity > 0
    }
    return dict(sorted(shares.items(), key=lambda item: (-item[1], item[0])))


def concentration(
    *, by_mining: Mapping[str, Decimal], by_processing: Mapping[str, Decimal], limit: Decimal = Decimal("0.65")
) -> Concentration:
    """Share of usable stock per country of mining and of processing; flagged when one country
    holds strictly more than `limit` of either (EU CRMA benchmark 65%)."""
    mining = _shares(by_mining)
    processing = _shares(by_processing)
    total_mining = sum((q for q in by_mining.values() if q > 0), ZERO)
    total_processing = sum((q for q in by_processing.values() if q > 0), ZERO)
    # Flag on the exact ratio, not the rounded share.
    flagged = any(q > limit * total_mining for q in by_mining.values() if total_mining > 0) or any(
        q > limit * total_processing for q in by_processing.values() if total_processing > 0
    )
    return Concentration(
        mining=mining,
        processing=processing,
        china_mining=mining.get("CN", ZERO),
        china_processing=processing.get("CN", ZERO),
        flagged=flagged,
    )


def scale(quantity: Decimal, pct_change: Decimal) -> Decimal:
    """`quantity` changed by `pct_change` percent (-100 gives zero)."""
    return max(quantity * (1 + pct_change / 100), ZERO)
