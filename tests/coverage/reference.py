"""A slow, obviously correct forward walk, one day at a time, to check the fast one against.

Exact arithmetic (fractions); the rules are those of vault.coverage.domain, stated again here
in their plainest form."""

import calendar
import math
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction


def reference_forward(*, stock, today, monthly_demand, inbound=()):
    """-> (days, beyond_horizon, depletion_date), days a Decimal with 1 dp or None."""
    current = today.replace(day=1)
    months = [m for m in monthly_demand if m >= current]
    if not months:
        return None, False, None
    last = max(months)
    horizon_end = last.replace(day=calendar.monthrange(last.year, last.month)[1])
    receipts = {}
    for day, quantity in inbound:
        receipts[day] = receipts.get(day, Fraction(0)) + Fraction(quantity)

    def rate(day: date) -> Fraction:
        month = day.replace(day=1)
        return Fraction(monthly_demand.get(month, 0)) / calendar.monthrange(day.year, day.month)[1]

    if all(rate(today + timedelta(days=k)) == 0 for k in range((horizon_end - today).days + 1)):
        return None, False, None
    level = max(Fraction(stock), Fraction(0))
    day, k = today, 0
    while day <= horizon_end:
        level += receipts.get(day, 0)  # inbound arrives before the day's consumption
        r = rate(day)
        if level < r:
            elapsed = k + level / r
            days = (Decimal(math.floor(elapsed * 10)) / 10).quantize(Decimal("0.1"))
            return days, False, day
        level -= r
        day += timedelta(days=1)
        k += 1
    return Decimal(k).quantize(Decimal("0.1")), True, None
