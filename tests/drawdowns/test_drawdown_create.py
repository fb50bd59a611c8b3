"""drawdown_create and drawdown_submit: the rules a request must meet."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from tests.drawdowns.conftest import days
from tests.factories import UserFactory
from vault.core.errors import InsufficientStock, InvalidInput, InvalidTransition, NotFound
from vault.drawdowns import services
from vault.drawdowns.models import DrawdownRequest, DrawdownTransition


def test_create_makes_a_draft_with_one_history_row(maker_a, agreement_a, stocked, make_request):
    request = make_request(maker_a, "120.5", submit=False, priority="defense-rated", justification="Rated order")
    assert request.status == DrawdownRequest.Status.DRAFT
    assert request.organization == maker_a.organization
    assert request.agreement == agreement_a
    assert request.quantity == Decimal("120.500")
    assert request.approved_quantity is None
    rows = list(DrawdownTransition.objects.filter(request=request).values_list("from_status", "to_status", "by"))
    assert rows == [("", "draft", maker_a.pk)]


def test_create_and_submit_in_one_go(maker_a, agreement_a, stocked, make_request):
    request = make_request(maker_a, "100", submit=True)
    request.refresh_from_db()
    assert request.status == "submitted"
    assert request.submitted_at is not None
    assert list(request.transitions.values_list("to_status", flat=True)) == ["draft", "submitted"]


@pytest.mark.parametrize("quantity", ["0", "-5", "0.0001"])
def test_zero_negative_or_too_precise_quantity_is_refused(
    maker_a, agreement_a, stocked, make_request, quantity, nothing_written
):
    with nothing_written(), pytest.raises(InvalidInput) as err:
        make_request(maker_a, quantity)
    assert err.value.field == "quantity"


def test_more_than_the_entitlement_is_refused(maker_a, agreement_a, stocked, make_request, nothing_written):
    with nothing_written(), pytest.raises(InvalidInput) as err:
        make_request(maker_a, "500.001")
    assert err.value.field == "quantity"
    assert err.value.code == "exceeds_entitlement"


def test_exactly_the_entitlement_is_accepted(maker_a, agreement_a, stocked, make_request):
    assert make_request(maker_a, "500").quantity == Decimal("500")


def test_more_than_the_stock_is_refused(maker_a, org_a, material, manager, make_request, nothing_written):
    from tests.factories import LotFactory

    services.agreement_create(
        by=manager,
        organization=org_a,
        material=material,
        quantity=Decimal("5000"),
        locked_price=Decimal("80"),
        replenishment_days=90,
    )
    LotFactory(material=material, initial_quantity="200", by=manager)
    with nothing_written(), pytest.raises(InsufficientStock) as err:
        make_request(maker_a, "200.001")
    assert err.value.field == "quantity"
    assert err.value.status_code == 409


def test_material_without_entitlement_is_refused(
    maker_a, agreement_a, stocked, other_material, make_request, nothing_written
):
    with nothing_written(), pytest.raises(InvalidInput) as err:
        make_request(maker_a, "10", material=other_material)
    assert err.value.field == "material"


def test_needed_by_in_the_past_is_refused(maker_a, agreement_a, stocked, make_request, nothing_written):
    with nothing_written(), pytest.raises(InvalidInput) as err:
        make_request(maker_a, "10", needed_by=days(-1))
    assert err.value.field == "needed_by"


def test_needed_by_today_is_accepted(maker_a, agreement_a, stocked, make_request):
    assert make_request(maker_a, "10", needed_by=days(0)).needed_by == timezone.localdate()


def test_outside_a_disruption_a_commitment_date_is_required(
    maker_a, agreement_a, stocked, make_request, nothing_written
):
    with nothing_written(), pytest.raises(InvalidInput) as err:
        make_request(maker_a, "10", replenish_by=None)
    assert err.value.field == "replenish_by"


@pytest.mark.parametrize("offset", [-1, 91])
def test_commitment_date_must_fall_in_the_window(maker_a, agreement_a, stocked, make_request, offset, nothing_written):
    with nothing_written(), pytest.raises(InvalidInput) as err:
        make_request(maker_a, "10", replenish_by=days(offset))
    assert err.value.field == "replenish_by"


def test_commitment_on_the_last_day_of_the_window_is_accepted(maker_a, agreement_a, stocked, make_request):
    assert make_request(maker_a, "10", replenish_by=days(90)).replenish_by == days(90)


def test_in_a_disruption_no_commitment_is_needed(maker_a, agreement_a, stocked, material, manager, make_request):
    services.disruption_declare(
        by=manager, materials=[material], starts_on=days(-3), ends_on=days(30), reason="Export ban"
    )
    request = make_request(maker_a, "500", replenish_by=None, priority="disruption")
    assert request.status == "submitted"
    assert request.replenish_by is None


def test_a_past_disruption_does_not_count(maker_a, agreement_a, stocked, material, manager, make_request):
    services.disruption_declare(by=manager, materials=[material], starts_on=days(-30), ends_on=days(-1), reason="Over")
    with pytest.raises(InvalidInput) as err:
        make_request(maker_a, "10", replenish_by=None)
    assert err.value.field == "replenish_by"


def test_disruption_priority_needs_a_declared_disruption(maker_a, agreement_a, stocked, make_request, nothing_written):
    with nothing_written(), pytest.raises(InvalidInput) as err:
        make_request(maker_a, "10", priority="disruption")
    assert err.value.field == "priority"


def test_unknown_priority_is_refused(maker_a, agreement_a, stocked, make_request):
    with pytest.raises(InvalidInput) as err:
        make_request(maker_a, "10", priority="urgent")
    assert err.value.field == "priority"


def test_only_a_participant_creates_requests(manager, agreement_a, stocked, material, nothing_written):
    with nothing_written(), pytest.raises(InvalidInput) as err:
        services.drawdown_create(
            by=manager, material=material, quantity=Decimal("10"), needed_by=days(5), replenish_by=days(20)
        )
    assert err.value.field == "organization"


def test_submit_rechecks_the_entitlement(maker_a, agreement_a, stocked, make_request, nothing_written):
    draft = make_request(maker_a, "300", submit=False)
    make_request(maker_a, "300", submit=True)  # uses 300 of 500
    with nothing_written(), pytest.raises(InvalidInput) as err:
        services.drawdown_submit(request=draft, by=maker_a)
    assert err.value.field == "quantity"
    draft.refresh_from_db()
    assert draft.status == "draft"


def test_submit_rechecks_the_needed_by_date(maker_a, agreement_a, stocked, make_request):
    draft = make_request(maker_a, "10", submit=False)
    DrawdownRequest.objects.filter(pk=draft.pk).update(needed_by=timezone.localdate() - timedelta(days=1))
    with pytest.raises(InvalidInput) as err:
        services.drawdown_submit(request=draft, by=maker_a)
    assert err.value.field == "needed_by"


def test_submit_twice_is_an_invalid_transition(maker_a, agreement_a, stocked, make_request, nothing_written):
    request = make_request(maker_a, "10")
    with nothing_written(), pytest.raises(InvalidTransition) as err:
        services.drawdown_submit(request=request, by=maker_a)
    assert err.value.status_code == 409


def test_another_organization_cannot_submit(maker_a, maker_b, agreement_a, stocked, make_request, nothing_written):
    draft = make_request(maker_a, "10", submit=False)
    with nothing_written(), pytest.raises(NotFound):
        services.drawdown_submit(request=draft, by=maker_b)


def test_a_colleague_in_the_same_organization_can_submit(maker_a, org_a, agreement_a, stocked, make_request):
    colleague = UserFactory(username="maker_a2", role="manufacturer", organization=org_a)
    draft = make_request(maker_a, "10", submit=False)
    assert services.drawdown_submit(request=draft, by=colleague).status == "submitted"
