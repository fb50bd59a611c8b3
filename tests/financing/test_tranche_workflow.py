from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from tests.financing.factories import approved_tranche, disbursed_tranche
from tests.financing.helpers import entry_lines, row_counts
from vault.core.errors import Conflict, InvalidInput, InvalidTransition
from vault.financing import services
from vault.financing.models import Facility, Tranche
from vault.financing.services import CommitmentExceeded
from vault.ledger.models import JournalEntry
from vault.ledger.selectors import account_balance

ON = date(2026, 3, 2)


def test_plan_approve_disburse_posts_cash_against_loan_payable(finance, checker, loan):
    tranche = services.tranche_plan(
        facility=loan, amount=Decimal("250000000.00"), expected_date=ON, purpose="Oxides", by=finance
    )
    assert tranche.status == Tranche.Status.PLANNED
    assert not JournalEntry.objects.exists()

    services.tranche_approve(tranche=tranche, by=checker)
    requested = services.tranche_disburse(tranche=tranche, by=finance, date=ON)
    assert (requested.status, requested.disbursement_pending) == (Tranche.Status.APPROVED, True)
    assert not JournalEntry.objects.exists()
    services.tranche_disburse_confirm(tranche=tranche, by=checker)

    tranche.refresh_from_db()
    loan.refresh_from_db()
    assert (tranche.status, tranche.actual_date) == (Tranche.Status.DISBURSED, ON)
    assert (loan.disbursed, loan.outstanding, loan.undrawn) == (
        Decimal("250000000.00"),
        Decimal("250000000.00"),
        Decimal("9750000000.00"),
    )
    assert (tranche.created_by, tranche.approved_by) == (finance, checker)
    assert (tranche.disbursement_requested_by, tranche.disbursement_date, tranche.disbursed_by) == (
        finance,
        ON,
        checker,
    )
    assert tranche.approved_at is not None and tranche.disbursed_at is not None
    assert loan.approved == 0
    entry = JournalEntry.objects.get(source_type="tranche", source_id=tranche.pk)
    assert entry.date == ON
    assert entry.posted_by == checker
    assert entry_lines(entry) == [("1000", "250000000.00", "0.00"), ("2100-LOAN-T", "0.00", "250000000.00")]
    assert account_balance(code="2100-LOAN-T") == Decimal("250000000.00")
    history = tranche.history.order_by("history_id")
    assert [(h.status, h.history_user) for h in history] == [
        ("planned", finance),
        ("approved", checker),
        ("approved", finance),
        ("disbursed", checker),
    ]


def test_capital_call_credits_investor_capital(finance, capital):
    tranche = disbursed_tranche(facility=capital, amount="100000000.00", on=ON, by=finance)
    entry = JournalEntry.objects.get(source_type="tranche", source_id=tranche.pk)
    assert entry_lines(entry) == [("1000", "100000000.00", "0.00"), ("3100-PC-T", "0.00", "100000000.00")]
    assert account_balance(code="3100-PC-T") == Decimal("100000000.00")


def test_disburse_defaults_to_today(finance, make_facility_today):
    facility = make_facility_today
    tranche = approved_tranche(facility=facility, amount="10.00", by=finance, expected_date=timezone.localdate())
    services.tranche_disburse(tranche=tranche, by=finance)
    tranche.refresh_from_db()
    assert tranche.actual_date == timezone.localdate()


@pytest.fixture
def make_facility_today(finance):
    from tests.financing.factories import make_facility

    today = timezone.localdate()
    return make_facility(
        by=finance,
        code="LOAN-TODAY",
        available_from=today - timedelta(days=30),
        available_until=today + timedelta(days=30),
        maturity_date=today + timedelta(days=3650),
    )


def test_cancel_from_planned_or_approved_only(finance, loan):
    planned = services.tranche_plan(facility=loan, amount=Decimal("5.00"), expected_date=ON, by=finance)
    approved = approved_tranche(facility=loan, amount="5.00", by=finance)
    disbursed = disbursed_tranche(facility=loan, amount="5.00", on=ON, by=finance)

    assert services.tranche_cancel(tranche=planned, by=finance).status == Tranche.Status.CANCELLED
    assert services.tranche_cancel(tranche=approved, by=finance).status == Tranche.Status.CANCELLED
    with pytest.raises(InvalidTransition):
        services.tranche_cancel(tranche=disbursed, by=finance)


def _refused(call, error, field: str):
    before = row_counts()
    with pytest.raises(error) as exc:
        call()
    assert exc.value.field == field
    assert row_counts() == before, "a refused call must write nothing"
    return exc.value


def test_over_commitment_is_refused_at_plan_and_approve(finance, checker, loan):
    # 9.9B disbursed leaves 100M undrawn.
    disbursed_tranche(facility=loan, amount="9900000000.00", on=ON, by=finance)
    loan.refresh_from_db()

    error = _refused(
        lambda: services.tranche_plan(facility=loan, amount=Decimal("100000000.01"), expected_date=ON, by=finance),
        CommitmentExceeded,
        "amount",
    )
    assert error.status_code == 400
    assert error.code == "over_commitment"

    # Two tranches that fit alone but not together: the first approval reserves the headroom,
    # the second approval is refused.
    first = approved_tranche(facility=loan, amount="60000000.00", by=finance)
    second = services.tranche_plan(facility=loan, amount=Decimal("60000000.00"), expected_date=ON, by=finance)
    _refused(lambda: services.tranche_approve(tranche=second, by=checker), Conflict, "amount")
    services.tranche_disburse(tranche=first, by=finance, date=ON)
    loan.refresh_from_db()
    assert (loan.disbursed, loan.approved) == (Decimal("9960000000.00"), 0)


def test_approving_a_tranche_that_no_longer_fits_is_refused(finance, checker, loan):
    planned = services.tranche_plan(facility=loan, amount=Decimal("6000000000.00"), expected_date=ON, by=finance)
    disbursed_tranche(facility=loan, amount="5000000000.00", on=ON, by=finance)
    error = _refused(lambda: services.tranche_approve(tranche=planned, by=checker), Conflict, "amount")
    assert (error.code, error.extra["headroom"]) == ("commitment_reserved", Decimal("5000000000.00"))


@pytest.mark.parametrize("status", ["planned", "cancelled", "disbursed"])
def test_only_an_approved_tranche_is_disbursed(finance, checker, loan, status):
    tranche = services.tranche_plan(facility=loan, amount=Decimal("10.00"), expected_date=ON, by=finance)
    if status == "cancelled":
        services.tranche_cancel(tranche=tranche, by=finance)
    if status == "disbursed":
        services.tranche_approve(tranche=tranche, by=checker)
        services.tranche_disburse(tranche=tranche, by=finance, date=ON)
    error = _refused(
        lambda: services.tranche_disburse(tranche=tranche, by=finance, date=ON), InvalidTransition, "status"
    )
    assert error.status_code == 409


@pytest.mark.parametrize(
    ("amount", "message"),
    [("-5.00", "greater than zero"), ("0", "greater than zero"), ("10.001", "2 decimals"), ("abc", "not a number")],
)
def test_bad_amounts_are_refused(finance, loan, amount, message):
    error = _refused(
        lambda: services.tranche_plan(facility=loan, amount=amount, expected_date=ON, by=finance),
        InvalidInput,
        "amount",
    )
    assert message in error.message


def test_dates_outside_the_availability_period_are_refused(finance, loan):
    _refused(
        lambda: services.tranche_plan(
            facility=loan, amount=Decimal("1.00"), expected_date=date(2031, 1, 1), by=finance
        ),
        InvalidInput,
        "expected_date",
    )
    tranche = approved_tranche(facility=loan, amount="1.00", by=finance)
    _refused(
        lambda: services.tranche_disburse(tranche=tranche, by=finance, date=date(2025, 12, 31)),
        InvalidInput,
        "date",
    )


def test_future_disbursal_dates_are_refused(finance, loan):
    tranche = approved_tranche(facility=loan, amount="1.00", by=finance)
    _refused(
        lambda: services.tranche_disburse(tranche=tranche, by=finance, date=timezone.localdate() + timedelta(days=1)),
        InvalidInput,
        "date",
    )


def test_disbursal_on_an_accrued_day_is_refused(finance, loan):
    disbursed_tranche(facility=loan, amount="1000000.00", on=ON, by=finance)
    services.interest_accrue(facility=loan, through=date(2026, 3, 10))
    tranche = approved_tranche(facility=loan, amount="1.00", by=finance)
    error = _refused(
        lambda: services.tranche_disburse(tranche=tranche, by=finance, date=date(2026, 3, 10)), Conflict, "date"
    )
    assert error.code == "already_accrued"
    services.tranche_disburse(tranche=tranche, by=finance, date=date(2026, 3, 11))
    assert Facility.objects.get(pk=loan.pk).disbursed == Decimal("1000001.00")
