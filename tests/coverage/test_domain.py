"""The pure coverage functions: worked examples, then properties (Hypothesis) including
agreement with the slow day-by-day reference in tests/coverage/reference.py."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.coverage.reference import reference_forward
from vault.coverage.domain import (
    Status,
    concentration,
    coverage_status,
    forward_coverage,
    scale,
    trailing_coverage,
)

D = Decimal
TODAY = date(2026, 4, 10)  # April has 30 days


def fc(stock, demand, inbound=(), today=TODAY):
    return forward_coverage(stock=D(stock), today=today, monthly_demand=demand, inbound=inbound)


# --- worked examples ------------------------------------------------------------------------------


def test_today_counts_as_a_full_day_and_fraction_of_last_day_is_kept():
    # 30 kg a month in April = 1 kg a day; 2.5 kg lasts today, tomorrow and half of the day after.
    result = fc("2.5", {date(2026, 4, 1): D("30"), date(2026, 5, 1): D("31")})
    assert result.days == D("2.5")
    assert result.beyond_horizon is False
    assert result.depletion_date == date(2026, 4, 12)


def test_stock_exactly_used_up_at_the_end_of_a_day_lasts_that_day():
    result = fc("3", {date(2026, 4, 1): D("30"), date(2026, 5, 1): D("31")})
    assert result.days == D("3.0")
    # The first day with unmet demand is the 13th.
    assert result.depletion_date == date(2026, 4, 13)


def test_each_month_consumes_its_own_rate():
    # April: 21 days left from the 10th (10..30) at 1 kg/day = 21 kg; May at 2 kg/day.
    demand = {date(2026, 4, 1): D("30"), date(2026, 5, 1): D("62"), date(2026, 6, 1): D("30")}
    result = fc("31", demand)
    assert result.days == D("26.0")  # 21 days of April + 10 kg / 2 kg a day = 5 days of May
    assert result.depletion_date == date(2026, 5, 6)


def test_zero_stock_runs_out_today():
    result = fc("0", {date(2026, 4, 1): D("30")})
    assert result.days == D("0.0")
    assert result.depletion_date == TODAY


def test_horizon_ends_first_gives_at_least_the_horizon():
    # Forecast to the end of May: 10..30 April (21 days) + 31 days of May = 52 days.
    result = fc("1000000", {date(2026, 4, 1): D("30"), date(2026, 5, 1): D("31")})
    assert result.days == D("52.0")
    assert result.beyond_horizon is True
    assert result.depletion_date is None


@pytest.mark.parametrize(
    "demand",
    [{}, {date(2026, 4, 1): D("0"), date(2026, 5, 1): D("0")}, {date(2026, 3, 1): D("500")}],
    ids=["no forecast", "zero forecast", "only past months"],
)
def test_no_demand_is_unbounded(demand):
    result = fc("10", demand)
    assert result.days is None
    assert result.beyond_horizon is False
    assert result.depletion_date is None


def test_inbound_arrives_before_that_days_consumption():
    demand = {date(2026, 4, 1): D("30"), date(2026, 5, 1): D("31")}
    # 1 kg today; 1 kg arriving tomorrow is used tomorrow: 2 full days, not 1.
    assert fc("1", demand, [(TODAY + timedelta(days=1), D("1"))]).days == D("2.0")
    # Arriving today counts today.
    assert fc("0", demand, [(TODAY, D("1.5"))]).days == D("1.5")


def test_inbound_after_a_stock_out_does_not_extend_coverage():
    demand = {date(2026, 4, 1): D("30"), date(2026, 5, 1): D("31")}
    assert fc("2", demand, [(TODAY + timedelta(days=5), D("100"))]).days == D("2.0")


def test_inbound_before_today_and_beyond_the_horizon_is_ignored():
    demand = {date(2026, 4, 1): D("30")}
    assert fc("2", demand, [(TODAY - timedelta(days=1), D("100")), (date(2026, 6, 1), D("100"))]).days == D("2.0")


def test_month_without_forecast_inside_the_horizon_consumes_nothing():
    demand = {date(2026, 4, 1): D("30"), date(2026, 6, 1): D("30")}
    # 21 kg lasts the 21 days of April; May consumes nothing; 1 kg more covers 1 June.
    assert fc("22", demand).days == D("53.0")


def test_coverage_is_rounded_down():
    # 1 kg/day in April; 2.99 kg -> 2.9 days, never 3.0.
    assert fc("2.99", {date(2026, 4, 1): D("30"), date(2026, 5, 1): D("31")}).days == D("2.9")


def test_trailing_coverage_is_stock_over_average_daily_release():
    assert trailing_coverage(stock=D("900"), released=D("90"), window_days=90) == D("900.0")
    assert trailing_coverage(stock=D("100"), released=D("300"), window_days=90) == D("30.0")
    assert trailing_coverage(stock=D("100"), released=D("0"), window_days=90) is None
    assert trailing_coverage(stock=D("0"), released=D("10"), window_days=90) == D("0.0")
    with pytest.raises(ValueError):
        trailing_coverage(stock=D("1"), released=D("1"), window_days=0)


@pytest.mark.parametrize(
    ("days", "status"),
    [
        (None, Status.NO_DEMAND),
        (D("0"), Status.BREACH),
        (D("59.9"), Status.BREACH),
        (D("60"), Status.WARNING),
        (D("71.9"), Status.WARNING),
        (D("72"), Status.OK),
        (D("400"), Status.OK),
    ],
)
def test_status_against_a_60_day_target(days, status):
    assert coverage_status(days=days, target_days=60) == status


def test_warning_band_is_configurable():
    assert coverage_status(days=D("70"), target_days=60, warning_band=D("0.10")) == Status.OK


def test_concentration_shares_china_and_flag():
    result = concentration(
        by_mining={"CN": D("70"), "AU": D("30")}, by_processing={"MY": D("50"), "CN": D("50")}, limit=D("0.65")
    )
    assert result.mining == {"CN": D("0.7000"), "AU": D("0.3000")}
    assert result.processing == {"CN": D("0.5000"), "MY": D("0.5000")}
    assert result.china_mining == D("0.7000")
    assert result.china_processing == D("0.5000")
    assert result.flagged is True


def test_concentration_at_exactly_the_limit_is_not_flagged():
    result = concentration(by_mining={"US": D("65"), "AU": D("35")}, by_processing={"US": D("65"), "MY": D("35")})
    assert result.flagged is False
    assert result.china_mining == D("0")


def test_concentration_of_no_stock_is_empty():
    result = concentration(by_mining={}, by_processing={})
    assert (result.mining, result.processing, result.flagged) == ({}, {}, False)


def test_scale():
    assert scale(D("100"), D("25")) == D("125")
    assert scale(D("100"), D("-100")) == D("0")


# --- properties -------------------------------------------------------------------------------------

quantities = st.decimals(min_value=0, max_value=100_000, places=3, allow_nan=False, allow_infinity=False)
days_ahead = st.integers(min_value=0, max_value=200)
today_st = st.dates(min_value=date(2024, 1, 1), max_value=date(2030, 12, 31))


@st.composite
def scenarios(draw):
    today = draw(today_st)
    start = today.replace(day=1)
    months = []
    month = start
    for _ in range(draw(st.integers(min_value=0, max_value=6))):
        months.append(month)
        month = date(month.year + (month.month == 12), month.month % 12 + 1, 1)
    demand = {m: draw(quantities) for m in months if draw(st.booleans()) or m == months[-1]}
    inbound = draw(st.lists(st.tuples(days_ahead, quantities), max_size=5))
    inbound = [(today + timedelta(days=k), q) for k, q in inbound]
    return {"stock": draw(quantities), "today": today, "monthly_demand": demand, "inbound": inbound}


def as_tuple(result):
    return result.days, result.beyond_horizon, result.depletion_date


def rank(result):
    """Orders coverage results: unbounded above everything; a lower bound equals its value."""
    return Decimal("Infinity") if result.days is None else result.days


PROPERTY = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(scenarios())
def test_fast_walk_agrees_with_the_day_by_day_reference(case):
    assert as_tuple(forward_coverage(**case)) == reference_forward(**case)


@PROPERTY
@given(scenarios(), quantities)
def test_more_stock_never_gives_less_coverage(case, extra):
    more = {**case, "stock": case["stock"] + extra}
    assert rank(forward_coverage(**more)) >= rank(forward_coverage(**case))


@PROPERTY
@given(scenarios(), st.data())
def test_more_demand_never_gives_more_coverage(case, data):
    if not case["monthly_demand"]:
        return
    month = data.draw(st.sampled_from(sorted(case["monthly_demand"])))
    extra = data.draw(quantities)
    more = {**case, "monthly_demand": {**case["monthly_demand"], month: case["monthly_demand"][month] + extra}}
    assert rank(forward_coverage(**more)) <= rank(forward_coverage(**case))


@PROPERTY
@given(scenarios(), days_ahead, quantities)
def test_adding_inbound_never_reduces_coverage(case, offset, quantity):
    more = {**case, "inbound": [*case["inbound"], (case["today"] + timedelta(days=offset), quantity)]}
    assert rank(forward_coverage(**more)) >= rank(forward_coverage(**case))


@PROPERTY
@given(scenarios())
def test_results_are_well_formed(case):
    result = forward_coverage(**case)
    if result.days is None:
        assert result.depletion_date is None and not result.beyond_horizon
        return
    assert result.days >= 0
    assert result.days == result.days.quantize(Decimal("0.1"))
    if result.beyond_horizon:
        assert result.depletion_date is None
    else:
        # The depletion day is the day the walk stops: the day in which coverage ends.
        offset = (result.depletion_date - case["today"]).days
        assert offset <= result.days < offset + 1


@PROPERTY
@given(quantities, quantities, st.integers(min_value=1, max_value=365))
def test_trailing_coverage_is_monotonic_in_stock(stock, extra, window):
    released = Decimal("10")
    assert trailing_coverage(stock=stock + extra, released=released, window_days=window) >= trailing_coverage(
        stock=stock, released=released, window_days=window
    )
