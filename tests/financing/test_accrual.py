"""Daily interest accrual: one row per loan per day on the principal outstanding at the end of
the day, at the rate in force that day, under the facility's day count, rounded to the cent with
the sub-cent remainder carried to the next day: any run of days from the first accrues its exact
interest rounded once."""

from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest

from tests.financing.factories import disbursed_tranche, make_facility
from vault.core.errors import Conflict
from vault.financing import services
from vault.financing.models import InterestAccrual
from vault.financing.services import daily_interest
from vault.financing.tasks import accrue_interest
from vault.ledger.models import JournalEntry
from vault.ledger.selectors import account_balance

ON = date(2026, 3, 2)
CENT = Decimal("0.01")
DAILY_360 = Decimal("250000000") * Decimal("4.25") / 100 / 360  # 29,513.888...
DAILY_365 = Decimal("250000000") * Decimal("4.25") / 100 / 365  # 29,109.589...


def _once(exact: Decimal) -> Decimal:
    return exact.quantize(CENT, rounding=ROUND_HALF_UP)


def _cumulative(rows) -> list[Decimal]:
    total, sums = Decimal("0"), []
    for row in rows:
        total += row.amount
        sums.append(total)
    return sums


def _accruals(facility):
    return list(InterestAccrual.objects.filter(facility=facility).order_by("date"))


def test_daily_rounding_is_half_up_to_the_cent():
    assert daily_interest(Decimal("250000000.00"), Decimal("4.25"), "ACT/360") == Decimal("29513.89")
    assert daily_interest(Decimal("250000000.00"), Decimal("4.25"), "ACT/365F") == Decimal("29109.59")
    # 1,000,000 x 1.8% / 360 = 50.00 exactly; x 1.809% -> 50.25; 0.5 cent rounds up.
    assert daily_interest(Decimal("1000000.00"), Decimal("1.809"), "ACT/360") == Decimal("50.25")
    assert daily_interest(Decimal("360.00"), Decimal("0.5"), "ACT/360") == Decimal("0.01")  # 0.005 -> 0.01
    assert daily_interest(Decimal("0"), Decimal("4.25"), "ACT/360") == Decimal("0.00")


def test_accrues_each_day_from_the_first_disbursal_and_posts_it(loan, finance):
    disbursed_tranche(facility=loan, amount="250000000.00", on=ON, by=finance)

    rows = services.interest_accrue(facility=loan, through=date(2026, 3, 31))

    assert [r.date for r in rows] == [ON + timedelta(days=n) for n in range(30)]
    assert {r.amount for r in rows} == {Decimal("29513.89"), Decimal("29513.88")}
    # every run of days from the first accrues the exact interest rounded once
    assert _cumulative(rows) == [_once(DAILY_360 * n) for n in range(1, 31)]
    assert {(r.principal, r.rate_pct, r.day_count) for r in rows} == {
        (Decimal("250000000.00"), Decimal("4.25"), "ACT/360")
    }
    entries = JournalEntry.objects.filter(source_type="accrual").order_by("date")
    assert [e.date for e in entries] == [r.date for r in rows]
    assert account_balance(code="5000") == account_balance(code="2000-LOAN-T") == Decimal("885416.67")


def test_act_365f_accrues_less_than_act_360(finance):
    act360 = make_facility(by=finance, code="L-360", day_count="ACT/360")
    act365 = make_facility(by=finance, code="L-365", day_count="ACT/365F")
    for facility in (act360, act365):
        disbursed_tranche(facility=facility, amount="250000000.00", on=ON, by=finance)
        services.interest_accrue(facility=facility, through=date(2026, 3, 31))

    assert account_balance(code="2000-L-360") == _once(DAILY_360 * 30) == Decimal("885416.67")
    assert account_balance(code="2000-L-365") == _once(DAILY_365 * 30) == Decimal("873287.67")


def test_rate_change_mid_period_applies_from_its_day(loan, finance):
    disbursed_tranche(facility=loan, amount="250000000.00", on=ON, by=finance)
    services.facility_rate_set(facility=loan, effective_from=date(2026, 3, 16), rate_pct=Decimal("5.00"), by=finance)

    rows = services.interest_accrue(facility=loan, through=date(2026, 3, 31))

    by_day = {r.date: r for r in rows}
    assert by_day[date(2026, 3, 15)].rate_pct == Decimal("4.25")
    assert by_day[date(2026, 3, 16)].rate_pct == Decimal("5.00")
    assert by_day[date(2026, 3, 16)].amount in {Decimal("34722.22"), Decimal("34722.23")}
    daily_500 = Decimal("250000000") * 5 / 100 / 360
    assert _cumulative(rows)[13] == _once(DAILY_360 * 14)
    assert sum(r.amount for r in rows) == _once(DAILY_360 * 14 + daily_500 * 16) == Decimal("968750.00")


def test_disbursals_count_from_their_day_and_repayments_from_theirs(loan, finance):
    disbursed_tranche(facility=loan, amount="1000000.00", on=ON, by=finance)
    disbursed_tranche(facility=loan, amount="2000000.00", on=date(2026, 3, 5), by=finance)
    services.repayment_create(facility=loan, amount=Decimal("3000000.00"), date=date(2026, 3, 8), by=finance)

    rows = services.interest_accrue(facility=loan, through=date(2026, 3, 9))

    assert [(r.date.day, r.principal) for r in rows] == [
        (2, Decimal("1000000.00")),
        (3, Decimal("1000000.00")),
        (4, Decimal("1000000.00")),
        (5, Decimal("3000000.00")),
        (6, Decimal("3000000.00")),
        (7, Decimal("3000000.00")),
        (8, Decimal("0.00")),
        (9, Decimal("0.00")),
    ]
    # Zero days leave a row (the day is done) but post nothing.
    assert JournalEntry.objects.filter(source_type="accrual").count() == 6


def test_rerun_and_catch_up_after_missed_days_give_one_accrual_per_day(loan, finance):
    disbursed_tranche(facility=loan, amount="250000000.00", on=ON, by=finance)

    assert len(services.interest_accrue(facility=loan, through=date(2026, 3, 10))) == 9
    assert services.interest_accrue(facility=loan, through=date(2026, 3, 10)) == []
    assert services.interest_accrue(facility=loan, through=date(2026, 3, 5)) == []
    # Eleven days missed: the next run catches up on all of them, once.
    assert len(services.interest_accrue(facility=loan, through=date(2026, 3, 21))) == 11

    days = [r.date for r in _accruals(loan)]
    assert days == [ON + timedelta(days=n) for n in range(20)]
    assert JournalEntry.objects.filter(source_type="accrual").count() == 20


def test_nothing_to_accrue_before_the_first_disbursal(loan, finance):
    assert services.interest_accrue(facility=loan, through=date(2026, 12, 31)) == []
    disbursed_tranche(facility=loan, amount="1.00", on=date(2026, 3, 20), by=finance)
    assert services.interest_accrue(facility=loan, through=date(2026, 3, 19)) == []


def test_rate_change_on_an_accrued_day_is_refused(loan, finance):
    disbursed_tranche(facility=loan, amount="1000.00", on=ON, by=finance)
    services.interest_accrue(facility=loan, through=date(2026, 3, 10))
    with pytest.raises(Conflict) as exc:
        services.facility_rate_set(facility=loan, effective_from=date(2026, 3, 10), rate_pct=Decimal("5"), by=finance)
    assert exc.value.field == "effective_from"
    assert loan.rates.count() == 1


def test_task_accrues_every_loan_through_yesterday_by_default(loan, capital, finance, monkeypatch):
    other = make_facility(by=finance, code="LOAN-2")
    disbursed_tranche(facility=loan, amount="1000000.00", on=ON, by=finance)
    disbursed_tranche(facility=other, amount="1000000.00", on=date(2026, 3, 10), by=finance)
    disbursed_tranche(facility=capital, amount="1000000.00", on=ON, by=finance)
    monkeypatch.setattr("vault.financing.tasks.timezone.localdate", lambda: date(2026, 3, 12))

    assert accrue_interest.delay().get() == 10 + 2  # 2..11 March and 10..11 March
    assert accrue_interest() == 0
    assert accrue_interest(through="2026-03-13") == 4
    assert InterestAccrual.objects.filter(facility=capital).count() == 0


def test_task_is_registered_under_the_beat_schedule_name_and_acks_late():
    from django.conf import settings

    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert accrue_interest.name == "vault.financing.tasks.accrue_interest" in scheduled
    assert accrue_interest.acks_late is True


def test_the_remainder_carries_across_runs_so_a_quarter_is_its_exact_interest_rounded_once(loan, finance):
    """Accrued a day at a time (as the daily task does), with a rate change and a repayment in
    the quarter: the quarter's interest is the exact interest rounded once, not 91 roundings."""
    disbursed_tranche(facility=loan, amount="333333.33", on=date(2026, 1, 1), by=finance)
    services.facility_rate_set(facility=loan, effective_from=date(2026, 2, 10), rate_pct=Decimal("3.17"), by=finance)
    day, exact = date(2026, 1, 1), Decimal("0")
    while day <= date(2026, 3, 31):
        if day == date(2026, 3, 1):
            services.repayment_create(facility=loan, amount=Decimal("33333.33"), date=day, by=finance)
        services.interest_accrue(facility=loan, through=day)
        principal = Decimal("333333.33") - (Decimal("33333.33") if day >= date(2026, 3, 1) else 0)
        rate = Decimal("3.17") if day >= date(2026, 2, 10) else Decimal("4.25")
        exact += principal * rate / 100 / 360
        day += timedelta(days=1)
    rows = _accruals(loan)
    assert len(rows) == 90
    assert sum(r.amount for r in rows) == _once(exact)
    per_day = sum(daily_interest(r.principal, r.rate_pct, r.day_count) for r in rows)
    assert per_day != _once(exact)  # rounding each day on its own would lose the remainder
    assert all(abs(r.carry) <= Decimal("0.005") for r in rows)
