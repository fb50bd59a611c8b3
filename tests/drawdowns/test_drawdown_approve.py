"""drawdown_approve and drawdown_cancel: reservations on specific lots, oldest first."""

from datetime import date
from decimal import Decimal

import pytest

from tests.drawdowns.conftest import assert_stock_consistent
from tests.factories import LotFactory, SiteFactory
from vault.core.errors import InsufficientStock, InvalidInput
from vault.drawdowns import services
from vault.drawdowns.models import Reservation
from vault.inventory.models import Lot, Position
from vault.inventory.services import lot_set_status


@pytest.fixture
def lots(material, site, other_site, manager, agreement_a):
    """Three lots of 100 kg received on different days (ids not in received order), one quarantined."""
    newest = LotFactory(
        material=material, site=site, initial_quantity="100", received_date=date(2026, 3, 20), by=manager
    )
    oldest = LotFactory(
        material=material, site=other_site, initial_quantity="100", received_date=date(2026, 1, 5), by=manager
    )
    middle = LotFactory(
        material=material, site=site, initial_quantity="100", received_date=date(2026, 2, 10), by=manager
    )
    quarantined = LotFactory(
        material=material, site=site, initial_quantity="100", received_date=date(2025, 12, 1), by=manager
    )
    lot_set_status(lot=quarantined, status=Lot.Status.QUARANTINE, by=manager)
    return {"newest": newest, "oldest": oldest, "middle": middle, "quarantined": quarantined}


def _reserved(request):
    return [(r.lot_id, r.quantity) for r in Reservation.objects.filter(request=request).order_by("id")]


def test_approval_reserves_oldest_available_lots_first(maker_a, manager, lots, make_request):
    request = make_request(maker_a, "250")
    services.drawdown_approve(request=request, by=manager)
    assert _reserved(request) == [
        (lots["oldest"].pk, Decimal("100")),
        (lots["middle"].pk, Decimal("100")),
        (lots["newest"].pk, Decimal("50")),
    ]
    request.refresh_from_db()
    assert request.status == "approved" and request.approved_quantity == Decimal("250")
    for key, reserved in {"oldest": 100, "middle": 100, "newest": 50, "quarantined": 0}.items():
        lots[key].refresh_from_db()
        assert lots[key].reserved == Decimal(reserved)
    position = Position.objects.get(material=lots["newest"].material, site=lots["newest"].site)
    assert position.reserved == Decimal("150")
    assert position.available == Decimal("300") - Decimal("150") - Decimal("100")  # quarantine unavailable
    assert_stock_consistent()


def test_partial_approval_reserves_only_the_approved_quantity(maker_a, manager, lots, make_request):
    request = make_request(maker_a, "250")
    services.drawdown_approve(request=request, by=manager, quantity=Decimal("120"), comment="part")
    request.refresh_from_db()
    assert (request.quantity, request.approved_quantity) == (Decimal("250"), Decimal("120"))
    assert sum(q for _, q in _reserved(request)) == Decimal("120")
    assert request.transitions.last().quantity == Decimal("120")


def test_approving_more_than_requested_is_refused(maker_a, manager, lots, make_request, nothing_written):
    request = make_request(maker_a, "100")
    with nothing_written(), pytest.raises(InvalidInput) as err:
        services.drawdown_approve(request=request, by=manager, quantity=Decimal("100.001"))
    assert err.value.field == "quantity"


@pytest.mark.parametrize("quantity", ["0", "-1"])
def test_approving_zero_or_less_is_refused(maker_a, manager, lots, make_request, quantity, nothing_written):
    request = make_request(maker_a, "100")
    with nothing_written(), pytest.raises(InvalidInput):
        services.drawdown_approve(request=request, by=manager, quantity=Decimal(quantity))


def test_short_stock_is_a_conflict_and_reserves_nothing(
    maker_a, maker_b, manager, lots, agreement_b, make_request, nothing_written
):
    first = make_request(maker_a, "250")
    second = make_request(maker_b, "100")
    services.drawdown_approve(request=first, by=manager)
    with nothing_written(), pytest.raises(InsufficientStock) as err:
        services.drawdown_approve(request=second, by=manager)
    assert err.value.status_code == 409 and err.value.field == "quantity"
    assert "50" in err.value.message
    second.refresh_from_db()
    assert second.status == "submitted"
    # The rest can still be approved in part.
    services.drawdown_approve(request=second, by=manager, quantity=Decimal("50"))
    assert_stock_consistent()


def test_cancelling_an_approved_request_releases_its_lots(maker_a, manager, lots, make_request):
    request = make_request(maker_a, "250")
    services.drawdown_approve(request=request, by=manager)
    services.drawdown_cancel(request=request, by=maker_a, comment="no longer needed")
    assert set(Reservation.objects.filter(request=request).values_list("state", flat=True)) == {"released"}
    assert sum(Lot.objects.values_list("reserved", flat=True), Decimal("0")) == 0
    assert sum(Position.objects.values_list("reserved", flat=True), Decimal("0")) == 0
    assert_stock_consistent()


def test_a_manager_can_cancel_an_approved_request(maker_a, manager, lots, make_request):
    request = make_request(maker_a, "50")
    services.drawdown_approve(request=request, by=manager)
    services.drawdown_cancel(request=request, by=manager, comment="participant asked by phone")
    request.refresh_from_db()
    assert request.status == "cancelled"


def test_lots_of_other_materials_are_not_touched(maker_a, manager, lots, make_request, other_material):
    foreign = LotFactory(material=other_material, site=SiteFactory(code="DEPOT-Z"), initial_quantity="1000", by=manager)
    services.drawdown_approve(request=make_request(maker_a, "300"), by=manager)
    foreign.refresh_from_db()
    assert foreign.reserved == 0
