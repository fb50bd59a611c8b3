"""Four eyes on tranches: the approver is not the planner, approvals reserve headroom, and a
disbursement above the threshold is asked by one finance user and posted by another. Every
refusal writes nothing."""

from datetime import date
from decimal import Decimal

import pytest

from tests.factories import UserFactory
from tests.financing.factories import approved_tranche, disbursed_tranche, make_facility
from tests.financing.helpers import row_counts
from vault.core.errors import Conflict
from vault.financing import services
from vault.financing.models import Tranche
from vault.ledger.models import JournalEntry

ON = date(2026, 3, 2)
LARGE = "250000000.00"  # above the default 100M threshold


def _refused(call, code: str, field: str) -> Conflict:
    before = row_counts()
    with pytest.raises(Conflict) as exc:
        call()
    assert (exc.value.status_code, exc.value.code, exc.value.field) == (409, code, field)
    assert row_counts() == before, "a refused call must write nothing"
    return exc.value


def _planned(facility, amount, by) -> Tranche:
    return services.tranche_plan(facility=facility, amount=Decimal(amount), expected_date=ON, by=by)


def test_the_planner_cannot_approve_their_own_tranche(finance, checker, loan):
    tranche = _planned(loan, "1000.00", finance)
    error = _refused(lambda: services.tranche_approve(tranche=tranche, by=finance), "second_user_required", "status")
    assert "needs a second user" in error.message
    approved = services.tranche_approve(tranche=tranche, by=checker)
    assert (approved.status, approved.created_by, approved.approved_by) == ("approved", finance, checker)
    assert approved.approved_at is not None


def test_only_finance_approves_disburses_and_confirms(finance, manager, loan):
    tranche = _planned(loan, "1000.00", finance)
    _refused(lambda: services.tranche_approve(tranche=tranche, by=manager), "role_required", "status")
    approved = approved_tranche(facility=loan, amount=LARGE, by=finance)
    _refused(lambda: services.tranche_disburse(tranche=approved, by=manager, date=ON), "role_required", "date")
    services.tranche_disburse(tranche=approved, by=finance, date=ON)
    _refused(lambda: services.tranche_disburse_confirm(tranche=approved, by=manager), "role_required", "status")


def test_two_350m_approvals_cannot_coexist_against_362_9m(finance, checker):
    facility = make_facility(by=finance, code="LOAN-SMALL", commitment=Decimal("362900000.00"))
    first, second = _planned(facility, "350000000.00", finance), _planned(facility, "350000000.00", finance)
    services.tranche_approve(tranche=first, by=checker)
    error = _refused(lambda: services.tranche_approve(tranche=second, by=checker), "commitment_reserved", "amount")
    assert error.extra["headroom"] == Decimal("12900000.00")
    assert error.as_dict()["headroom"] == "12900000.00"
    facility.refresh_from_db()
    assert (facility.approved, facility.headroom, facility.undrawn) == (
        Decimal("350000000.00"),
        Decimal("12900000.00"),
        Decimal("362900000.00"),
    )


def test_cancelling_an_approved_tranche_releases_its_headroom(finance, checker):
    facility = make_facility(by=finance, code="LOAN-SMALL", commitment=Decimal("362900000.00"))
    first = approved_tranche(facility=facility, amount="350000000.00", by=finance)
    second = _planned(facility, "350000000.00", finance)
    services.tranche_cancel(tranche=first, by=finance, reason="replaced")
    facility.refresh_from_db()
    assert facility.approved == 0
    services.tranche_approve(tranche=second, by=checker)
    facility.refresh_from_db()
    assert facility.approved == Decimal("350000000.00")


def test_cancelling_a_planned_tranche_leaves_the_reservations(finance, loan):
    approved_tranche(facility=loan, amount="1000.00", by=finance)
    services.tranche_cancel(tranche=_planned(loan, "5.00", finance), by=finance)
    loan.refresh_from_db()
    assert loan.approved == Decimal("1000.00")


def test_disbursing_moves_the_amount_from_approved_to_disbursed(finance, loan):
    tranche = approved_tranche(facility=loan, amount="1000.00", by=finance)
    loan.refresh_from_db()
    assert (loan.approved, loan.disbursed) == (Decimal("1000.00"), 0)
    services.tranche_disburse(tranche=tranche, by=finance, date=ON)
    loan.refresh_from_db()
    assert (loan.approved, loan.disbursed, loan.headroom) == (0, Decimal("1000.00"), Decimal("9999999000.00"))


def test_at_or_below_the_threshold_a_disbursement_is_one_step(finance, loan):
    tranche = approved_tranche(facility=loan, amount="100000000.00", by=finance)
    done = services.tranche_disburse(tranche=tranche, by=finance, date=ON)
    assert (done.status, done.disbursed_by, done.disbursement_requested_by) == ("disbursed", finance, None)


def test_above_the_threshold_one_asks_and_another_confirms(finance, checker, loan):
    tranche = approved_tranche(facility=loan, amount=LARGE, by=finance)
    asked = services.tranche_disburse(tranche=tranche, by=finance, date=ON)
    assert (asked.status, asked.disbursement_pending, asked.disbursement_date) == ("approved", True, ON)
    assert (asked.disbursement_requested_by, asked.disbursed_by) == (finance, None)
    assert not JournalEntry.objects.filter(source_type="tranche").exists()
    loan.refresh_from_db()
    assert (loan.approved, loan.disbursed) == (Decimal(LARGE), 0)

    _refused(lambda: services.tranche_disburse_confirm(tranche=tranche, by=finance), "second_user_required", "status")
    done = services.tranche_disburse_confirm(tranche=tranche, by=checker)
    assert (done.status, done.actual_date, done.disbursed_by, done.disbursement_pending) == (
        "disbursed",
        ON,
        checker,
        False,
    )
    entry = JournalEntry.objects.get(source_type="tranche", source_id=tranche.pk)
    assert (entry.date, entry.posted_by) == (ON, checker)
    loan.refresh_from_db()
    assert (loan.approved, loan.disbursed) == (0, Decimal(LARGE))


def test_the_approver_may_confirm_a_disbursement_someone_else_asked(finance, checker, loan):
    """Four eyes on the disbursement is about the one who asks: the approver may be the second."""
    tranche = approved_tranche(facility=loan, amount=LARGE, by=finance)
    services.tranche_disburse(tranche=tranche, by=finance, date=ON)
    assert services.tranche_disburse_confirm(tranche=tranche, by=checker).status == "disbursed"


def test_a_new_request_replaces_the_pending_one(finance, checker, loan):
    tranche = approved_tranche(facility=loan, amount=LARGE, by=finance)
    services.tranche_disburse(tranche=tranche, by=finance, date=ON)
    asked = services.tranche_disburse(tranche=tranche, by=checker, date=date(2026, 3, 3))
    assert (asked.disbursement_requested_by, asked.disbursement_date) == (checker, date(2026, 3, 3))
    _refused(lambda: services.tranche_disburse_confirm(tranche=tranche, by=checker), "second_user_required", "status")
    assert services.tranche_disburse_confirm(tranche=tranche, by=finance).actual_date == date(2026, 3, 3)


def test_confirm_needs_a_pending_request(finance, checker, loan):
    tranche = approved_tranche(facility=loan, amount=LARGE, by=finance)
    _refused(
        lambda: services.tranche_disburse_confirm(tranche=tranche, by=checker), "no_disbursement_request", "status"
    )
    done = disbursed_tranche(facility=loan, amount="1.00", on=ON, by=finance)
    _refused(lambda: services.tranche_disburse_confirm(tranche=done, by=checker), "no_disbursement_request", "status")


def test_confirm_checks_the_date_again(finance, checker, loan):
    """Interest accrued since the request: the requested date is now refused, nothing posts."""
    disbursed_tranche(facility=loan, amount="1000.00", on=ON, by=finance)
    tranche = approved_tranche(facility=loan, amount=LARGE, by=finance)
    services.tranche_disburse(tranche=tranche, by=finance, date=date(2026, 3, 10))
    services.interest_accrue(facility=loan, through=date(2026, 3, 12))
    _refused(lambda: services.tranche_disburse_confirm(tranche=tranche, by=checker), "already_accrued", "date")


def test_a_cancelled_request_cannot_be_confirmed(finance, checker, loan):
    tranche = approved_tranche(facility=loan, amount=LARGE, by=finance)
    services.tranche_disburse(tranche=tranche, by=finance, date=ON)
    services.tranche_cancel(tranche=tranche, by=checker, reason="not needed")
    loan.refresh_from_db()
    assert loan.approved == 0
    _refused(
        lambda: services.tranche_disburse_confirm(tranche=tranche, by=checker), "no_disbursement_request", "status"
    )


def test_the_threshold_is_a_setting(settings, finance, loan):
    settings.VAULT_DISBURSEMENT_SECOND_APPROVAL_USD = "1000.00"
    assert services.second_approval_threshold() == Decimal("1000.00")
    small = services.tranche_disburse(
        tranche=approved_tranche(facility=loan, amount="1000.00", by=finance), by=finance, date=ON
    )
    assert small.status == "disbursed"
    large = services.tranche_disburse(
        tranche=approved_tranche(facility=loan, amount="1000.01", by=finance), by=finance, date=ON
    )
    assert large.disbursement_pending


def test_a_tranche_planned_by_the_system_is_approved_by_any_finance_user(finance, loan):
    tranche = Tranche.objects.create(facility=loan, amount=Decimal("5.00"), expected_date=ON, created_by=None)
    assert services.tranche_approve(tranche=tranche, by=finance).approved_by == finance


def test_every_step_is_in_the_history(finance, checker, loan):
    other = UserFactory(username="finance3", role="finance")
    tranche = _planned(loan, LARGE, finance)
    services.tranche_approve(tranche=tranche, by=checker)
    services.tranche_disburse(tranche=tranche, by=finance, date=ON)
    services.tranche_disburse_confirm(tranche=tranche, by=other)
    steps = [
        (h.status, h.history_user.username, h.approved_by_id, h.disbursement_requested_by_id, h.disbursed_by_id)
        for h in tranche.history.order_by("history_id")
    ]
    assert steps == [
        ("planned", "finance1", None, None, None),
        ("approved", checker.username, checker.pk, None, None),
        ("approved", "finance1", checker.pk, finance.pk, None),
        ("disbursed", "finance3", checker.pk, finance.pk, other.pk),
    ]
    assert tranche.history.order_by("history_id")[2].history_change_reason == "disbursement requested"
