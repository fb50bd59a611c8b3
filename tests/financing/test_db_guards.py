"""Invariants the database holds on its own (PostgreSQL triggers and CHECK constraints):
raw SQL cannot over-disburse, nor change what is final."""

from datetime import date
from decimal import Decimal

import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction

from tests.factories import UserFactory
from tests.financing.factories import approved_tranche, disbursed_tranche, make_facility
from vault.financing import services
from vault.financing.models import Facility, Tranche
from vault.ledger.services import chart_ensure

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
ON = date(2026, 3, 2)


@pytest.fixture
def fin():
    chart_ensure()
    return UserFactory(username="finance-sql", role="finance")


@pytest.fixture
def facility(fin):
    facility = make_facility(by=fin, code="LOAN-SQL", commitment=Decimal("10000000000.00"))
    disbursed_tranche(facility=facility, amount="9000000000.00", on=ON, by=fin)
    return facility


def _sql(statement: str, params=()):
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def test_raw_update_of_disbursed_beyond_commitment_fails(facility):
    with pytest.raises(IntegrityError), transaction.atomic():
        _sql("UPDATE financing_facility SET disbursed = disbursed + %s WHERE id = %s", [Decimal("2e9"), facility.pk])
    assert Facility.objects.get(pk=facility.pk).disbursed == Decimal("9000000000.00")


def _raw_disburse(tranche, by):
    """The tranche row moved to disbursed as the service would (approver kept, who disbursed named)."""
    _sql(
        "UPDATE financing_tranche SET status = 'disbursed', actual_date = %s, disbursed_by_id = %s WHERE id = %s",
        [ON, by.pk, tranche.pk],
    )


def test_raw_tranche_marked_disbursed_without_the_total_fails_at_commit(facility, fin):
    tranche = approved_tranche(facility=facility, amount="500000000.00", by=fin)
    with pytest.raises(IntegrityError, match="out of step"), transaction.atomic():
        _raw_disburse(tranche, fin)
    assert Tranche.objects.get(pk=tranche.pk).status == "approved"


def test_raw_over_reservation_with_both_rows_moved_fails(facility, fin):
    """9B disbursed and 600M approved leave 400M: approving another 600M with raw SQL, both rows
    moved, fails at once."""
    approved_tranche(facility=facility, amount="600000000.00", by=fin)
    tranche = services.tranche_plan(facility=facility, amount=Decimal("600000000.00"), expected_date=ON, by=fin)
    other = UserFactory(username="finance-sql-2", role="finance")
    with pytest.raises(IntegrityError, match="facility_approved_within_headroom"), transaction.atomic():
        _sql(
            "UPDATE financing_tranche SET status = 'approved', approved_by_id = %s, approved_at = now() WHERE id = %s",
            [other.pk, tranche.pk],
        )
        _sql("UPDATE financing_facility SET approved = approved + %s WHERE id = %s", [tranche.amount, facility.pk])
    assert Facility.objects.get(pk=facility.pk).approved == Decimal("600000000.00")


def test_raw_sql_consistent_with_commitment_is_accepted(facility, fin):
    """The guard is exact, not a blanket ban: moving the amount from approved to disbursed commits."""
    tranche = approved_tranche(facility=facility, amount="1000000000.00", by=fin)
    with transaction.atomic():
        _raw_disburse(tranche, fin)
        _sql(
            "UPDATE financing_facility SET disbursed = disbursed + %s, approved = approved - %s WHERE id = %s",
            [Decimal("1000000000.00"), Decimal("1000000000.00"), facility.pk],
        )
    facility.refresh_from_db()
    assert (facility.disbursed, facility.approved) == (Decimal("10000000000.00"), 0)


def test_disbursed_tranche_cannot_be_changed_or_deleted(facility):
    tranche = Tranche.objects.get(facility=facility, status="disbursed")
    with pytest.raises(DatabaseError, match="cannot change"), transaction.atomic():
        _sql("UPDATE financing_tranche SET amount = 1 WHERE id = %s", [tranche.pk])
    with pytest.raises(DatabaseError), transaction.atomic():
        _sql("DELETE FROM financing_tranche WHERE id = %s", [tranche.pk])


@pytest.mark.parametrize("table", ["financing_repayment", "financing_interestaccrual", "financing_interestpayment"])
def test_money_rows_are_append_only(facility, fin, table):
    services.interest_accrue(facility=facility, through=date(2026, 3, 5))
    services.repayment_create(facility=facility, amount=Decimal("1.00"), date=date(2026, 3, 6), by=fin)
    services.interest_pay(facility=facility, amount=Decimal("1.00"), date=date(2026, 3, 6), by=fin)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        _sql(f"UPDATE {table} SET amount = amount + 1")  # noqa: S608 - fixed table names
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        _sql(f"DELETE FROM {table}")  # noqa: S608
