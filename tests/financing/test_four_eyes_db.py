"""Four eyes on tranches held by PostgreSQL: check constraints and triggers refuse raw SQL that
skips the second user, and approvals racing on real connections never reserve the same headroom."""

from datetime import date
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction

from tests.factories import UserFactory
from tests.financing.factories import approved_tranche, make_facility, second_finance_user
from tests.financing.test_concurrency import _run_in_threads
from vault.core.errors import Conflict
from vault.financing import services
from vault.financing.models import Facility, Tranche
from vault.ledger.models import JournalEntry
from vault.ledger.services import chart_ensure

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
ON = date(2026, 3, 2)


@pytest.fixture
def fin():
    chart_ensure()  # a transactional test starts from flushed tables
    return UserFactory(username="finance-4e", role="finance")


@pytest.fixture
def checker(fin):
    return second_finance_user(fin)


def _sql(statement: str, params=()):
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def _planned(facility, amount: str, by) -> Tranche:
    return services.tranche_plan(facility=facility, amount=Decimal(amount), expected_date=ON, by=by)


def _raw_approve(tranche: Tranche, approver_id) -> None:
    """Approve with raw SQL, moving the facility's approved total as the service does."""
    _sql(
        "UPDATE financing_tranche SET status = 'approved', approved_by_id = %s, approved_at = now() WHERE id = %s",
        [approver_id, tranche.pk],
    )
    _sql("UPDATE financing_facility SET approved = approved + %s WHERE id = %s", [tranche.amount, tranche.facility_id])


# --- raw SQL -------------------------------------------------------------------------------------


def test_raw_approval_by_the_planner_is_refused(fin):
    facility = make_facility(by=fin, code="LOAN-4E")
    tranche = _planned(facility, "1000.00", fin)
    with pytest.raises(IntegrityError, match="tranche_approver_not_planner"), transaction.atomic():
        _raw_approve(tranche, fin.pk)
    assert Tranche.objects.get(pk=tranche.pk).status == "planned"


def test_raw_approval_without_an_approver_is_refused(fin):
    facility = make_facility(by=fin, code="LOAN-4E")
    tranche = _planned(facility, "1000.00", fin)
    with pytest.raises(IntegrityError, match="tranche_approved_by_another"), transaction.atomic():
        _raw_approve(tranche, None)


def test_raw_approval_by_another_user_moving_the_total_commits(fin, checker):
    """The guards are exact: what the service writes, raw SQL may write too."""
    facility = make_facility(by=fin, code="LOAN-4E")
    tranche = _planned(facility, "1000.00", fin)
    with transaction.atomic():
        _raw_approve(tranche, checker.pk)
    assert Facility.objects.get(pk=facility.pk).approved == Decimal("1000.00")


def test_raw_approval_without_moving_the_total_fails_at_commit(fin, checker):
    facility = make_facility(by=fin, code="LOAN-4E")
    tranche = _planned(facility, "1000.00", fin)
    with pytest.raises(IntegrityError, match="out of step"), transaction.atomic():
        _sql(
            "UPDATE financing_tranche SET status = 'approved', approved_by_id = %s, approved_at = now() WHERE id = %s",
            [checker.pk, tranche.pk],
        )


def test_raw_release_of_reserved_headroom_fails_at_commit(fin):
    facility = make_facility(by=fin, code="LOAN-4E")
    approved_tranche(facility=facility, amount="1000.00", by=fin)
    with pytest.raises(IntegrityError, match="out of step"), transaction.atomic():
        _sql("UPDATE financing_facility SET approved = 0 WHERE id = %s", [facility.pk])
    with pytest.raises(IntegrityError, match="facility_approved_within_headroom"), transaction.atomic():
        _sql("UPDATE financing_facility SET approved = -1 WHERE id = %s", [facility.pk])


def test_raw_disbursal_skipping_approval_is_refused(fin):
    facility = make_facility(by=fin, code="LOAN-4E")
    tranche = _planned(facility, "1000.00", fin)
    with pytest.raises(IntegrityError, match="only once approved"), transaction.atomic():
        _sql(
            "UPDATE financing_tranche SET status = 'disbursed', actual_date = %s, disbursed_by_id = %s WHERE id = %s",
            [ON, fin.pk, tranche.pk],
        )
        _sql("UPDATE financing_facility SET disbursed = disbursed + %s WHERE id = %s", [tranche.amount, facility.pk])


def test_raw_insert_of_an_approved_tranche_is_refused(fin, checker):
    facility = make_facility(by=fin, code="LOAN-4E")
    with pytest.raises(IntegrityError, match="starts planned"), transaction.atomic():
        _sql(
            "INSERT INTO financing_tranche (facility_id, amount, expected_date, purpose, status, created_at,"
            " created_by_id, approved_by_id, approved_at) VALUES (%s, 1, %s, '', 'approved', now(), %s, %s, now())",
            [facility.pk, ON, fin.pk, checker.pk],
        )


def test_raw_disbursal_by_the_requester_is_refused(fin, checker):
    facility = make_facility(by=fin, code="LOAN-4E")
    tranche = approved_tranche(facility=facility, amount="250000000.00", by=fin)
    services.tranche_disburse(tranche=tranche, by=fin, date=ON)  # above the threshold: a request
    with pytest.raises(IntegrityError, match="tranche_disbursed_by_another"), transaction.atomic():
        _sql(
            "UPDATE financing_tranche SET status = 'disbursed', actual_date = %s, disbursed_by_id = %s WHERE id = %s",
            [ON, fin.pk, tranche.pk],
        )


def test_raw_request_without_its_requester_is_refused(fin):
    facility = make_facility(by=fin, code="LOAN-4E")
    tranche = approved_tranche(facility=facility, amount="250000000.00", by=fin)
    with pytest.raises(IntegrityError, match="tranche_disbursement_request_whole"), transaction.atomic():
        _sql(
            "UPDATE financing_tranche SET disbursement_date = %s, disbursement_requested_at = now() WHERE id = %s",
            [ON, tranche.pk],
        )


# --- real threads --------------------------------------------------------------------------------


def test_two_350m_approvals_against_362_9m_racing_in_the_service_one_wins(fin, checker):
    facility = make_facility(by=fin, code="LOAN-HEAD", commitment=Decimal("362900000.00"))
    tranches = [_planned(facility, "350000000.00", fin) for _ in range(2)]

    results = _run_in_threads(
        [lambda pk=t.pk: services.tranche_approve(tranche=Tranche.objects.get(pk=pk), by=checker) for t in tranches]
    )

    assert sorted(kind for kind, _ in results) == ["error", "ok"]
    (error,) = [value for kind, value in results if kind == "error"]
    assert isinstance(error, Conflict) and error.code == "commitment_reserved"
    assert error.extra["headroom"] == Decimal("12900000.00")
    facility.refresh_from_db()
    assert facility.approved == Decimal("350000000.00")
    assert Tranche.objects.filter(facility=facility, status="approved").count() == 1


def test_two_raw_approvals_racing_on_two_connections_cannot_both_commit(fin, checker):
    """Without the service's lock, the database alone: the second UPDATE of the facility waits for
    the first to commit, then its CHECK (disbursed + approved <= commitment) refuses it."""
    facility = make_facility(by=fin, code="LOAN-RAW", commitment=Decimal("362900000.00"))
    tranches = [_planned(facility, "350000000.00", fin) for _ in range(2)]

    def approve(tranche):
        with transaction.atomic():
            _raw_approve(tranche, checker.pk)

    results = _run_in_threads([lambda t=t: approve(t) for t in tranches])

    assert sorted(kind for kind, _ in results) == ["error", "ok"]
    (error,) = [value for kind, value in results if kind == "error"]
    assert isinstance(error, IntegrityError) and "facility_approved_within_headroom" in str(error)
    assert Facility.objects.get(pk=facility.pk).approved == Decimal("350000000.00")


def test_a_requested_disbursement_confirmed_twice_concurrently_posts_once(fin, checker):
    facility = make_facility(by=fin, code="LOAN-CONF")
    tranche = approved_tranche(facility=facility, amount="250000000.00", by=fin)
    services.tranche_disburse(tranche=tranche, by=fin, date=ON)
    others = [checker, UserFactory(username="finance-4e-third", role="finance")]

    results = _run_in_threads(
        [
            lambda user=user: services.tranche_disburse_confirm(tranche=Tranche.objects.get(pk=tranche.pk), by=user)
            for user in others
        ]
    )

    assert sorted(kind for kind, _ in results) == ["error", "ok"]
    assert JournalEntry.objects.filter(source_type="tranche", source_id=tranche.pk).count() == 1
    facility.refresh_from_db()
    assert (facility.disbursed, facility.approved) == (Decimal("250000000.00"), 0)
