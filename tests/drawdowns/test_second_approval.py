"""Four eyes on large drawdown approvals: above the limits (kg, or USD at the locked price) a
first manager's approval waits for a second manager's, which reserves the stock; nobody
approves a request they made, nor gives both approvals."""

from decimal import Decimal

import pytest
from django.test import Client

from tests.drawdowns.conftest import days
from tests.factories import UserFactory
from vault.accounts.services import roles_sync
from vault.core.errors import Conflict, InsufficientStock, InvalidInput
from vault.drawdowns import selectors, services
from vault.drawdowns.domain import SecondApprovalLimits, second_approval_limits
from vault.drawdowns.models import DrawdownRequest, DrawdownTransition, ParticipationAgreement, Reservation
from vault.integrity.invariants import run_checks
from vault.inventory import services as inventory_services

S = DrawdownRequest.Status
URL = "/api/v1/drawdown-requests/"
QUEUE = "/admin/drawdowns/drawdownrequest/"


@pytest.fixture
def limits(settings):
    """Second approval above 150 kg or 10,000 USD (agreement_a's price is 80 USD/kg: 125 kg)."""
    settings.VAULT_DRAWDOWN_SECOND_APPROVAL_KG = "150"
    settings.VAULT_DRAWDOWN_SECOND_APPROVAL_USD = "10000"


@pytest.fixture
def checker(db):
    """A second stockpile manager (the fixture `manager` is the first)."""
    return UserFactory(username="manager2", role="manager")


@pytest.fixture
def world(limits, agreement_a, stocked):
    return None


@pytest.fixture
def large(world, maker_a, make_request):
    """A submitted 200 kg request of ORG-A: above both limits."""
    return make_request(maker_a, "200")


def _transitions(request):
    return list(
        DrawdownTransition.objects.filter(request=request).values_list("from_status", "to_status", "by__username")
    )


# --- the limits -----------------------------------------------------------------------------------


def test_the_defaults_are_five_tonnes_or_the_simplified_acquisition_threshold():
    assert second_approval_limits() == SecondApprovalLimits(kg=Decimal("5000"), usd=Decimal("350000"))


@pytest.mark.parametrize(
    ("quantity", "price", "exceeded"),
    [
        ("150", "1", False),  # at the kg limit: not above it
        ("150.001", "0", True),  # above it, whatever the price (a zero price too)
        ("125", "80", False),  # 10,000.00 USD: at the value limit
        ("125.001", "80", True),  # 10,000.08 USD
        ("1", "10000.01", True),
    ],
)
def test_either_limit_exceeded_takes_a_second_manager(limits, quantity, price, exceeded):
    assert second_approval_limits().exceeded_by(quantity=Decimal(quantity), locked_price=Decimal(price)) is exceeded


# --- the service ----------------------------------------------------------------------------------


def test_below_the_limits_one_manager_approves_and_is_named(world, maker_a, manager, make_request):
    request = services.drawdown_approve(request=make_request(maker_a, "100"), by=manager)
    request.refresh_from_db()
    assert request.status == S.APPROVED and request.approved_by == manager
    assert not request.second_approval_required and request.first_approved_by is None
    assert sum(r.quantity for r in Reservation.objects.filter(request=request)) == Decimal("100")


def test_a_large_approval_waits_for_a_second_manager_and_reserves_nothing(large, maker_a, manager, checker):
    first = services.drawdown_approve(request=large, by=manager, quantity=Decimal("180"), comment="ok by me")
    first.refresh_from_db()
    assert first.status == S.AWAITING_SECOND_APPROVAL and first.second_approval_required
    assert (first.first_approved_by, first.first_approved_quantity) == (manager, Decimal("180.000"))
    assert first.first_approved_at is not None and first.approved_quantity is None and first.approved_by is None
    assert not Reservation.objects.filter(request=large).exists()
    # The entitlement counts the first approval's quantity, the most the second can approve.
    agreement = ParticipationAgreement.objects.get(pk=large.agreement_id)
    assert selectors.entitlement_remaining(agreement=agreement) == Decimal("320.000")
    last = DrawdownTransition.objects.filter(request=large).last()
    assert (last.to_status, last.quantity, last.by, last.comment) == (
        S.AWAITING_SECOND_APPROVAL,
        Decimal("180.000"),
        manager,
        "ok by me",
    )

    done = services.drawdown_approve(request=large, by=checker)
    done.refresh_from_db()
    assert done.status == S.APPROVED and done.approved_quantity == Decimal("180.000")
    assert (done.first_approved_by, done.approved_by) == (manager, checker)
    assert sum(r.quantity for r in Reservation.objects.filter(request=large)) == Decimal("180")
    assert _transitions(large) == [
        ("", S.DRAFT, "maker_a"),
        (S.DRAFT, S.SUBMITTED, "maker_a"),
        (S.SUBMITTED, S.AWAITING_SECOND_APPROVAL, "manager1"),
        (S.AWAITING_SECOND_APPROVAL, S.APPROVED, "manager2"),
    ]
    assert not any(run_checks(["request_state_explained_by_history"]).values())


def test_the_value_limit_alone_takes_a_second_manager(world, maker_a, manager, make_request):
    request = make_request(maker_a, "130")  # under 150 kg, but 10,400 USD at 80 USD/kg
    assert services.drawdown_approve(request=request, by=manager).status == S.AWAITING_SECOND_APPROVAL
    # A partial approval under both limits is one manager's to give.
    other = make_request(maker_a, "130")
    assert services.drawdown_approve(request=other, by=manager, quantity=Decimal("125")).status == S.APPROVED


def test_the_first_manager_cannot_give_the_second_approval(large, manager, nothing_written):
    services.drawdown_approve(request=large, by=manager)
    with nothing_written(), pytest.raises(Conflict) as refused:
        services.drawdown_approve(request=large, by=manager)
    assert (refused.value.code, refused.value.field) == ("second_user_required", "request")
    assert DrawdownRequest.objects.get(pk=large.pk).status == S.AWAITING_SECOND_APPROVAL


def test_the_second_approval_may_lower_the_quantity_never_raise_it(large, manager, checker, nothing_written):
    services.drawdown_approve(request=large, by=manager, quantity=Decimal("160"))
    with nothing_written(), pytest.raises(InvalidInput) as refused:
        services.drawdown_approve(request=large, by=checker, quantity=Decimal("170"))
    assert (refused.value.code, refused.value.field) == ("exceeds_first_approval", "quantity")
    done = services.drawdown_approve(request=large, by=checker, quantity=Decimal("155"))
    assert done.status == S.APPROVED and done.approved_quantity == Decimal("155")


def test_a_second_approval_short_of_stock_writes_nothing(large, manager, checker, nothing_written):
    services.drawdown_approve(request=large, by=manager)
    inventory_services.lot_set_status(lot=large.material.lots.get(), status="quarantine", by=manager, reason="assay")
    with nothing_written(), pytest.raises(InsufficientStock):
        services.drawdown_approve(request=large, by=checker)
    assert DrawdownRequest.objects.get(pk=large.pk).status == S.AWAITING_SECOND_APPROVAL


@pytest.mark.parametrize("who", ["first", "second"])
def test_either_manager_may_reject_while_it_waits(large, manager, checker, who):
    services.drawdown_approve(request=large, by=manager)
    by = manager if who == "first" else checker
    rejected = services.drawdown_reject(request=large, by=by, comment="not now")
    assert rejected.status == S.REJECTED
    assert not Reservation.objects.filter(request=large).exists()


def test_the_participant_may_withdraw_it_while_it_waits(large, maker_a, manager):
    services.drawdown_approve(request=large, by=manager)
    assert services.drawdown_cancel(request=large, by=maker_a).status == S.CANCELLED
    assert not any(run_checks(["request_state_explained_by_history"]).values())


def test_only_a_manager_approves(large, maker_a, finance, auditor, nothing_written):
    for user in (maker_a, finance, auditor):
        with nothing_written(), pytest.raises(Conflict) as refused:
            services.drawdown_approve(request=large, by=user)
        assert refused.value.code == "role_required"


def test_staff_cannot_request_a_drawdown_for_a_participant(world, manager, org_a, material):
    """Requests are made by a participant's users: a manager (or a superuser) is refused, so the
    approver can never be the requester that way."""
    admin = UserFactory(username="root", role="manager", is_superuser=True, is_staff=True, organization=org_a)
    for user in (manager, admin):
        with pytest.raises(InvalidInput) as refused:
            services.drawdown_create(
                by=user, material=material, quantity=Decimal("10"), needed_by=days(10), replenish_by=days(30)
            )
        assert refused.value.code == "not_a_participant"


def test_the_requester_never_approves_even_after_becoming_a_manager(world, maker_a, make_request, nothing_written):
    request = make_request(maker_a, "10")  # under the limits: one approval would do
    maker_a.role = "manager"
    maker_a.organization = None
    maker_a.save(update_fields=["role", "organization"])
    with nothing_written(), pytest.raises(Conflict) as refused:
        services.drawdown_approve(request=request, by=maker_a)
    assert (refused.value.code, refused.value.field) == ("second_user_required", "request")


# --- the API ------------------------------------------------------------------------------------


def test_the_api_answers_the_new_state_and_says_a_second_approval_is_needed(api, large, manager, checker):
    response = api(manager).post(f"{URL}{large.pk}/approve/", {"comment": "first"}, format="json")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "awaiting_second_approval" and body["second_approval_required"] is True
    assert (body["first_approved_by"], body["first_approved_quantity"], body["approved_by"]) == (
        "manager1",
        "200.000",
        None,
    )
    assert body["next_step"].startswith("A second approval is needed")
    assert body["approved_quantity"] is None

    again = api(manager).post(f"{URL}{large.pk}/approve/", {}, format="json")
    assert again.status_code == 409
    assert again.json()["code"] == "second_user_required" and "request" in again.json()["errors"]

    second = api(checker).post(f"{URL}{large.pk}/approve/", {}, format="json")
    assert second.status_code == 200, second.json()
    assert (second.json()["status"], second.json()["approved_by"], second.json()["next_step"]) == (
        "approved",
        "manager2",
        None,
    )
    assert [t["to_status"] for t in second.json()["transitions"]][-2:] == ["awaiting_second_approval", "approved"]


def test_the_api_filters_requests_awaiting_a_second_approval(api, large, manager):
    services.drawdown_approve(request=large, by=manager)
    listed = api(manager).get(URL, {"status": "awaiting_second_approval"}).json()["results"]
    assert [row["id"] for row in listed] == [large.pk]


# --- the admin ----------------------------------------------------------------------------------


def _login(user):
    roles_sync()
    client = Client()
    client.force_login(user)
    return client


def test_the_admin_shows_the_first_approver_and_lets_a_second_manager_approve(large, manager, checker):
    boss = _login(manager)
    decide = f"{QUEUE}{large.pk}/decide/approve/"
    response = boss.post(decide, {"comment": ""}, follow=True)
    assert response.status_code == 200
    assert "first approval recorded for 200.000 kg" in response.content.decode()

    queue = boss.get(QUEUE, {"queue": "second"})
    assert [r.pk for r in queue.context["cl"].result_list] == [large.pk]
    html = queue.content.decode()
    assert "manager1 (200.000 kg" in html and "Second approval: approve in full" in html

    refused = boss.post(decide, {"comment": ""})
    assert refused.status_code == 400
    assert "needs a second user" in refused.content.decode()

    page = _login(checker).get(decide)
    assert "A second approval is needed" in page.content.decode()
    done = _login(checker).post(decide, {"comment": "checked"}, follow=True)
    assert "approved in full (200.000 kg reserved)" in done.content.decode()
    large.refresh_from_db()
    assert (large.status, large.approved_by) == (S.APPROVED, checker)
    change = boss.get(f"{QUEUE}{large.pk}/change/").content.decode()
    assert "manager1" in change and "manager2" in change  # both approvers, and the history


def test_the_admin_bulk_approval_reports_a_first_approval(large, maker_a, manager, make_request):
    small = make_request(maker_a, "10")
    response = _login(manager).post(
        QUEUE, {"action": "approve_in_full", "_selected_action": [large.pk, small.pk]}, follow=True
    )
    html = response.content.decode()
    assert f"Approved in full: {small.number}." in html
    assert f"{large.number}: first approval recorded for 200.000 kg" in html
    assert DrawdownRequest.objects.get(pk=large.pk).status == S.AWAITING_SECOND_APPROVAL


def test_the_dashboard_panel_counts_the_first_approvals(large, manager):
    services.drawdown_approve(request=large, by=manager)
    html = _login(manager).get("/admin/").content.decode()
    assert 'id="review-queue-second">1<' in html


# --- the portal ---------------------------------------------------------------------------------


def test_the_portal_tells_the_participant_a_second_approval_is_awaited(large, maker_a, manager):
    services.drawdown_approve(request=large, by=manager)
    portal = Client()
    portal.force_login(maker_a)
    html = portal.get(f"/portal/requests/{large.pk}/").content.decode()
    assert "Awaiting second approval" in html
    assert 'id="second-approval-note"' in html and "A second approval is needed" in html
    assert "awaiting a second approval" in html  # the approved quantity line
    listed = portal.get("/portal/requests/", {"status": "awaiting_second_approval"}).content.decode()
    assert large.number in listed
