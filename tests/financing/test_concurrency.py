"""Real threads, each with its own PostgreSQL connection."""

import threading
from datetime import date
from decimal import Decimal

import pytest
from django.db import connection

from tests.factories import UserFactory
from tests.financing.factories import approved_tranche, disburse, disbursed_tranche, make_facility, second_finance_user
from vault.core.errors import Conflict
from vault.financing import services
from vault.financing.models import Facility, InterestAccrual, Tranche
from vault.financing.tasks import accrue_interest
from vault.ledger.models import JournalEntry
from vault.ledger.selectors import account_balance
from vault.ledger.services import chart_ensure

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
ON = date(2026, 3, 2)


@pytest.fixture
def fin():
    chart_ensure()  # a transactional test starts from flushed tables
    return UserFactory(username="finance-threads", role="finance")


def _run_in_threads(jobs):
    """Start every job at once (a barrier), each in its own thread and connection."""
    barrier = threading.Barrier(len(jobs))
    results: list = [None] * len(jobs)

    def run(index, job):
        try:
            barrier.wait()
            results[index] = ("ok", job())
        except Exception as exc:  # noqa: BLE001 - the test inspects what each thread got
            results[index] = ("error", exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_ten_concurrent_2b_approvals_against_10b_exactly_five_succeed(fin):
    """Approvals reserve headroom under the facility lock; the five approved then disburse
    concurrently (each asked by one finance user and confirmed by another) and all post."""
    facility = make_facility(by=fin, code="LOAN-RACE", commitment=Decimal("10000000000.00"))
    checker = second_finance_user(fin)
    tranches = [
        services.tranche_plan(facility=facility, amount=Decimal("2000000000.00"), expected_date=ON, by=fin)
        for _ in range(10)
    ]

    results = _run_in_threads(
        [lambda pk=t.pk: services.tranche_approve(tranche=Tranche.objects.get(pk=pk), by=checker) for t in tranches]
    )

    outcomes = sorted(kind for kind, _ in results)
    assert outcomes == ["error"] * 5 + ["ok"] * 5
    assert all(
        isinstance(value, Conflict) and value.code == "commitment_reserved"
        for kind, value in results
        if kind == "error"
    )
    facility.refresh_from_db()
    assert (facility.disbursed, facility.approved) == (0, Decimal("10000000000.00"))

    approved = list(Tranche.objects.filter(facility=facility, status="approved"))
    results = _run_in_threads(
        [lambda pk=t.pk: disburse(tranche=Tranche.objects.get(pk=pk), by=fin, on=ON) for t in approved]
    )

    assert [kind for kind, _ in results] == ["ok"] * 5
    facility.refresh_from_db()
    assert (facility.disbursed, facility.approved) == (Decimal("10000000000.00"), 0)
    assert Tranche.objects.filter(facility=facility, status="disbursed").count() == 5
    assert JournalEntry.objects.filter(source_type="tranche").count() == 5
    assert account_balance(code="2100-LOAN-RACE") == Decimal("10000000000.00")
    assert account_balance(code="1000") == Decimal("10000000000.00")


def test_concurrent_approve_requests_through_the_api(fin):
    from rest_framework.test import APIClient

    facility = make_facility(by=fin, code="LOAN-API", commitment=Decimal("10000000000.00"))
    checker = second_finance_user(fin)
    tranches = [
        services.tranche_plan(facility=facility, amount=Decimal("2000000000.00"), expected_date=ON, by=fin)
        for _ in range(8)
    ]

    def post(pk):
        client = APIClient()
        client.force_authenticate(checker)
        response = client.post(f"/api/v1/tranches/{pk}/approve/")
        return response.status_code, response.json().get("code")

    results = _run_in_threads([lambda pk=t.pk: post(pk) for t in tranches])

    assert sorted(value for _, value in results) == [(200, None)] * 5 + [(409, "commitment_reserved")] * 3
    assert Facility.objects.get(pk=facility.pk).approved == Decimal("10000000000.00")


def test_same_tranche_disbursed_twice_concurrently_posts_once(fin):
    facility = make_facility(by=fin, code="LOAN-TWICE")
    tranche = approved_tranche(facility=facility, amount="5.00", by=fin)

    results = _run_in_threads(
        [lambda: services.tranche_disburse(tranche=Tranche.objects.get(pk=tranche.pk), by=fin, date=ON)] * 4
    )

    assert sorted(kind for kind, _ in results) == ["error"] * 3 + ["ok"]
    assert JournalEntry.objects.filter(source_type="tranche", source_id=tranche.pk).count() == 1
    assert Facility.objects.get(pk=facility.pk).disbursed == Decimal("5.00")


def test_two_concurrent_accrual_runs_give_one_accrual_per_day(fin):
    facility = make_facility(by=fin, code="LOAN-ACCR")
    disbursed_tranche(facility=facility, amount="250000000.00", on=ON, by=fin)

    results = _run_in_threads([lambda: accrue_interest(through="2026-04-30")] * 3)

    assert [kind for kind, _ in results] == ["ok"] * 3
    assert sorted(value for _, value in results) == [0, 0, 60]  # 2 March .. 30 April
    days = list(InterestAccrual.objects.filter(facility=facility).values_list("date", flat=True))
    assert len(days) == len(set(days)) == 60
    assert JournalEntry.objects.filter(source_type="accrual").count() == 60
    assert account_balance(code="2000-LOAN-ACCR") == Decimal("1770833.33")  # 60 days of 29,513.888.., rounded once
