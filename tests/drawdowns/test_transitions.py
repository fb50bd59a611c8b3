"""The state machine: only allowed transitions, each leaving one row with who, when and comment."""

from decimal import Decimal

import pytest
from django.test import override_settings

from vault.core.errors import InvalidInput, InvalidTransition, NotFound
from vault.drawdowns import services
from vault.drawdowns.models import DrawdownRequest, DrawdownTransition
from vault.drawdowns.services import ALLOWED

S = DrawdownRequest.Status


def _to(state, request, manager, maker):
    """Drive `request` (submitted) to `state` through the services."""
    if state == S.DRAFT:
        raise AssertionError("start from a draft instead")
    if state == S.AWAITING_SECOND_APPROVAL:
        with override_settings(VAULT_DRAWDOWN_SECOND_APPROVAL_KG="1"):
            services.drawdown_approve(request=request, by=manager)
    if state in (S.APPROVED, S.FULFILLED, S.REPLENISHED):
        services.drawdown_approve(request=request, by=manager)
    if state in (S.FULFILLED, S.REPLENISHED):
        services.drawdown_fulfil(request=request, by=manager)
    if state == S.REPLENISHED:
        obligation = request.obligation
        services.obligation_replenish(
            obligation=obligation,
            by=manager,
            quantity=obligation.quantity_due,
            site=request.material.lots.first().site,
            mining_country="US",
            processing_country="US",
        )
    if state == S.REJECTED:
        services.drawdown_reject(request=request, by=manager, comment="No")
    if state == S.CANCELLED:
        services.drawdown_cancel(request=request, by=maker)
    request.refresh_from_db()
    assert request.status == state
    return request


def test_the_transition_table_is_the_documented_one():
    assert {
        S.DRAFT: {S.SUBMITTED, S.CANCELLED},
        S.SUBMITTED: {S.AWAITING_SECOND_APPROVAL, S.APPROVED, S.REJECTED, S.CANCELLED},
        S.AWAITING_SECOND_APPROVAL: {S.APPROVED, S.REJECTED, S.CANCELLED},
        S.APPROVED: {S.FULFILLED, S.CANCELLED},
        S.FULFILLED: {S.REPLENISHED},
        S.REPLENISHED: set(),
        S.REJECTED: set(),
        S.CANCELLED: set(),
    } == ALLOWED


ACTIONS = {
    "submit": lambda r, manager, maker: services.drawdown_submit(request=r, by=maker),
    "approve": lambda r, manager, maker: services.drawdown_approve(request=r, by=manager),
    "reject": lambda r, manager, maker: services.drawdown_reject(request=r, by=manager, comment="no"),
    "fulfil": lambda r, manager, maker: services.drawdown_fulfil(request=r, by=manager),
    "cancel": lambda r, manager, maker: services.drawdown_cancel(request=r, by=maker),
}
TARGET = {
    "submit": S.SUBMITTED,
    "approve": S.APPROVED,
    "reject": S.REJECTED,
    "fulfil": S.FULFILLED,
    "cancel": S.CANCELLED,
}


WRONG = [
    (state, action)
    for state in (
        S.SUBMITTED,
        S.AWAITING_SECOND_APPROVAL,
        S.APPROVED,
        S.FULFILLED,
        S.REPLENISHED,
        S.REJECTED,
        S.CANCELLED,
    )
    for action in ACTIONS
    if TARGET[action] not in ALLOWED[state]
]


@pytest.mark.parametrize(("state", "action"), WRONG)
def test_wrong_state_transitions_are_refused_and_write_nothing(
    state, action, maker_a, manager, agreement_a, stocked, make_request, nothing_written
):
    request = _to(state, make_request(maker_a, "100"), manager, maker_a)
    with nothing_written(), pytest.raises(InvalidTransition) as err:
        ACTIONS[action](request, manager, maker_a)
    assert err.value.status_code == 409
    assert err.value.field == "status"


@pytest.mark.parametrize("action", ["approve", "reject", "fulfil"])
def test_a_draft_cannot_be_decided(action, maker_a, manager, agreement_a, stocked, make_request, nothing_written):
    draft = make_request(maker_a, "100", submit=False)
    with nothing_written(), pytest.raises(InvalidTransition):
        ACTIONS[action](draft, manager, maker_a)


def test_every_transition_leaves_a_row_with_who_and_comment(maker_a, manager, agreement_a, stocked, make_request):
    request = make_request(maker_a, "100", submit=False)
    services.drawdown_submit(request=request, by=maker_a, comment="please")
    services.drawdown_approve(request=request, by=manager, quantity=Decimal("80"), comment="80 for now")
    services.drawdown_fulfil(request=request, by=manager, comment="shipped")
    rows = list(
        DrawdownTransition.objects.filter(request=request)
        .order_by("id")
        .values_list("from_status", "to_status", "by__username", "comment", "quantity")
    )
    assert rows == [
        ("", "draft", "maker_a", "", None),
        ("draft", "submitted", "maker_a", "please", None),
        ("submitted", "approved", "manager1", "80 for now", Decimal("80.000")),
        ("approved", "fulfilled", "manager1", "shipped", None),
    ]
    assert all(t.at is not None for t in request.transitions.all())


def test_reject_needs_a_reason(maker_a, manager, agreement_a, stocked, make_request, nothing_written):
    request = make_request(maker_a, "100")
    with nothing_written(), pytest.raises(InvalidInput) as err:
        services.drawdown_reject(request=request, by=manager, comment="  ")
    assert err.value.field == "comment"


def test_cancel_a_draft_and_a_submitted_request(maker_a, agreement_a, stocked, make_request):
    for submit in (False, True):
        request = make_request(maker_a, "10", submit=submit)
        services.drawdown_cancel(request=request, by=maker_a, comment="changed plans")
        request.refresh_from_db()
        assert request.status == "cancelled"
        assert request.transitions.last().comment == "changed plans"


def test_another_organization_cannot_cancel(maker_a, maker_b, agreement_a, stocked, make_request, nothing_written):
    request = make_request(maker_a, "10")
    with nothing_written(), pytest.raises(NotFound):
        services.drawdown_cancel(request=request, by=maker_b)


def test_a_stale_object_cannot_transition_twice(maker_a, manager, agreement_a, stocked, make_request):
    """The services lock and re-read the row: a second caller holding the same stale object
    sees the state the first one left."""
    request = make_request(maker_a, "100")
    stale = DrawdownRequest.objects.get(pk=request.pk)
    services.drawdown_approve(request=request, by=manager)
    with pytest.raises(InvalidTransition):
        services.drawdown_reject(request=stale, by=manager, comment="too late")
    assert DrawdownTransition.objects.filter(request=request, to_status="rejected").count() == 0


@pytest.mark.postgres
def test_history_rows_cannot_be_edited_or_deleted(maker_a, agreement_a, stocked, make_request):
    from django.db import DatabaseError, transaction

    request = make_request(maker_a, "10")
    row = request.transitions.first()
    with pytest.raises(DatabaseError), transaction.atomic():
        DrawdownTransition.objects.filter(pk=row.pk).update(comment="rewritten")
    with pytest.raises(DatabaseError), transaction.atomic():
        DrawdownTransition.objects.filter(pk=row.pk).delete()
    row.refresh_from_db()
    assert row.comment == ""
