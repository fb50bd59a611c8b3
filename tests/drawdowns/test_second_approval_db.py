"""Four eyes on large drawdown approvals, held by PostgreSQL: raw SQL cannot approve a large
request with one manager (or none, or the requester), and two managers' second approvals
racing on two connections approve it once."""

import threading
from decimal import Decimal

import pytest
from django.db import DatabaseError, connection, transaction

from tests.drawdowns.conftest import assert_stock_consistent, days
from tests.factories import LotFactory, MaterialFactory, OrganizationFactory, SiteFactory, UserFactory
from vault.core.errors import InvalidTransition
from vault.drawdowns import services
from vault.drawdowns.models import DrawdownRequest, DrawdownTransition, Reservation
from vault.integrity.invariants import run_checks

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
S = DrawdownRequest.Status


@pytest.fixture
def world(settings):
    settings.VAULT_DRAWDOWN_SECOND_APPROVAL_KG = "100"
    first = UserFactory(username="first-manager", role="manager")
    seconds = [UserFactory(username=f"second-manager-{n}", role="manager") for n in range(2)]
    material = MaterialFactory(code="NDPR-OX")
    LotFactory(material=material, site=SiteFactory(code="DEPOT-0"), initial_quantity="1000", by=first)
    org = OrganizationFactory(code="MAKER-A")
    maker = UserFactory(username="maker", role="manufacturer", organization=org)
    services.agreement_create(
        by=first,
        organization=org,
        material=material,
        quantity=Decimal("800"),
        locked_price=Decimal("80"),
        replenishment_days=90,
    )

    def request(kg="300"):
        return services.drawdown_create(
            by=maker, material=material, quantity=Decimal(kg), needed_by=days(5), replenish_by=days(30), submit=True
        )

    return first, seconds, maker, request


def _sql(statement, params=()):
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def _refused(statement, params=()):
    with pytest.raises(DatabaseError) as refused, transaction.atomic():
        _sql(statement, params)
    return str(refused.value)


APPROVE = "UPDATE drawdowns_drawdownrequest SET status = 'approved', approved_quantity = quantity, approved_by_id = %s"


def test_raw_sql_cannot_approve_a_large_request_with_one_manager(world):
    first, (second, _), maker, request = world
    waiting = services.drawdown_approve(request=request(), by=first)
    assert waiting.status == S.AWAITING_SECOND_APPROVAL
    where = " WHERE id = %s"
    assert "drawdowns_request_second_approval_by_another" in _refused(APPROVE + where, [first.pk, waiting.pk])
    assert "drawdowns_request_approved_has_approver" in _refused(
        "UPDATE drawdowns_drawdownrequest SET status = 'approved', approved_quantity = quantity WHERE id = %s",
        [waiting.pk],
    )
    assert "drawdowns_request_approver_not_requester" in _refused(APPROVE + where, [maker.pk, waiting.pk])
    assert "drawdowns_request_second_approval_by_another" in _refused(
        "UPDATE drawdowns_drawdownrequest SET status = 'approved', approved_quantity = quantity, approved_by_id = %s,"
        " first_approved_quantity = 1 WHERE id = %s",
        [second.pk, waiting.pk],
    )
    # Dropping the first approval, or the flag that it is needed, is refused while it waits.
    assert "drawdowns_request_awaiting_has_first_approval" in _refused(
        "UPDATE drawdowns_drawdownrequest SET first_approved_by_id = NULL WHERE id = %s", [waiting.pk]
    )
    assert "drawdowns_request_awaiting_has_first_approval" in _refused(
        "UPDATE drawdowns_drawdownrequest SET second_approval_required = false WHERE id = %s", [waiting.pk]
    )
    # A second manager, named as such, is what the table accepts.
    with transaction.atomic():
        _sql(APPROVE + where, [second.pk, waiting.pk])
        transaction.set_rollback(True)


def test_raw_sql_cannot_record_a_first_approval_by_the_requester(world):
    first, _, maker, request = world
    submitted = request()
    assert "drawdowns_request_approver_not_requester" in _refused(
        "UPDATE drawdowns_drawdownrequest SET status = 'awaiting_second_approval', second_approval_required = true,"
        " first_approved_by_id = %s, first_approved_at = now(), first_approved_quantity = quantity WHERE id = %s",
        [maker.pk, submitted.pk],
    )
    assert "drawdowns_request_awaiting_has_first_approval" in _refused(
        "UPDATE drawdowns_drawdownrequest SET status = 'awaiting_second_approval' WHERE id = %s", [submitted.pk]
    )


def test_two_second_approvals_racing_on_two_connections_approve_once(world):
    first, seconds, _, request = world
    waiting = services.drawdown_approve(request=request(), by=first)
    barrier = threading.Barrier(len(seconds))
    results: dict[str, object] = {}

    def approve(manager):
        try:
            barrier.wait(timeout=20)
            fresh = DrawdownRequest.objects.get(pk=waiting.pk)
            results[manager.username] = services.drawdown_approve(request=fresh, by=manager).status
        except InvalidTransition as exc:
            results[manager.username] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=approve, args=(manager,)) for manager in seconds]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(str(result) for result in results.values() if not isinstance(result, Exception)) == [S.APPROVED]
    assert sum(1 for result in results.values() if isinstance(result, InvalidTransition)) == 1
    waiting.refresh_from_db()
    assert waiting.status == S.APPROVED and waiting.approved_by.username in results
    assert waiting.approved_by.username != first.username
    assert DrawdownTransition.objects.filter(request=waiting, to_status=S.APPROVED).count() == 1
    assert sum(r.quantity for r in Reservation.objects.filter(request=waiting)) == Decimal("300")
    assert_stock_consistent()
    assert not any(run_checks(["request_state_explained_by_history", "lot_reserved_equals_held_reservations"]).values())


def test_a_second_approval_racing_a_rejection_lands_one_decision(world):
    first, (second, other), _, request = world
    waiting = services.drawdown_approve(request=request(), by=first)
    barrier = threading.Barrier(2)
    outcomes: list[object] = []

    def run(call):
        try:
            barrier.wait(timeout=20)
            outcomes.append(call(DrawdownRequest.objects.get(pk=waiting.pk)).status)
        except InvalidTransition as exc:
            outcomes.append(exc)
        finally:
            connection.close()

    calls = [
        lambda r: services.drawdown_approve(request=r, by=second),
        lambda r: services.drawdown_reject(request=r, by=first, comment="withdrawn"),
    ]
    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sum(1 for outcome in outcomes if isinstance(outcome, InvalidTransition)) == 1
    waiting.refresh_from_db()
    assert waiting.status in (S.APPROVED, S.REJECTED)
    held = sum((r.quantity for r in Reservation.objects.filter(request=waiting, state="held")), Decimal("0"))
    assert held == (Decimal("300") if waiting.status == S.APPROVED else 0)
    assert_stock_consistent()
