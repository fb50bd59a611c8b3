"""drawdown_fulfil and obligation_replenish: stock out, ledger, obligation, stock back."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from tests.drawdowns.conftest import assert_stock_consistent, days
from vault.core.errors import Conflict, InvalidInput
from vault.drawdowns import selectors, services
from vault.drawdowns.models import ReplenishmentObligation, Reservation
from vault.inventory.models import Lot, Movement
from vault.ledger.models import JournalEntry
from vault.ledger.selectors import account_balance


@pytest.fixture
def approved(maker_a, manager, agreement_a, stocked, make_request):
    request = make_request(maker_a, "200")
    services.drawdown_approve(request=request, by=manager, quantity=Decimal("150"))
    request.refresh_from_db()
    return request


def test_fulfil_releases_the_reserved_stock(approved, manager, stocked):
    obligation = services.drawdown_fulfil(request=approved, by=manager, comment="trucked")
    stocked.refresh_from_db()
    assert (stocked.on_hand, stocked.reserved) == (Decimal("850"), Decimal("0"))
    movement = Movement.objects.get(kind="release", lot=stocked)
    assert movement.quantity == Decimal("-150")
    assert movement.reference == f"DR-{approved.pk}"
    reservation = Reservation.objects.get(request=approved)
    assert reservation.state == "issued" and reservation.movement == movement
    approved.refresh_from_db()
    assert approved.status == "fulfilled" and approved.fulfilled_at is not None
    assert obligation.request == approved
    assert_stock_consistent()


def test_fulfil_posts_receivable_at_locked_price_and_inventory_at_cost(approved, manager):
    services.drawdown_fulfil(request=approved, by=manager)
    # 150 kg at 80 USD/kg locked = 12,000; premium 5% = 7.5 kg at 80 = 600.
    assert account_balance(code="1200") == Decimal("12600.00")
    assert account_balance(code="4200") == Decimal("12000.00")
    assert account_balance(code="4100") == Decimal("600.00")
    # Inventory out at cost: 150 kg at 50 USD/kg.
    assert account_balance(code="5200") == Decimal("7500.00")
    assert account_balance(code="1300") == Decimal("42500.00")
    entry = JournalEntry.objects.get(source_type="drawdown", source_id=approved.pk)
    assert entry.posted_by == manager


def test_fulfil_creates_the_obligation_with_premium_and_due_date(approved, manager, agreement_a):
    obligation = services.drawdown_fulfil(request=approved, by=manager)
    obligation.refresh_from_db()
    assert obligation.drawn_quantity == Decimal("150")
    assert obligation.premium_pct == Decimal("5")
    assert obligation.premium_quantity == Decimal("7.5")
    assert obligation.quantity_due == Decimal("157.5")
    assert obligation.replenished_quantity == 0
    assert obligation.unit_price == Decimal("80")
    assert obligation.due_on == timezone.localdate() + timedelta(days=90)
    assert obligation.committed_on == approved.replenish_by
    assert obligation.status == "open"


def test_remaining_entitlement_follows_the_request_through_its_life(approved, manager, agreement_a, site):
    def remaining():
        return selectors.entitlement_remaining(agreement=agreement_a)

    assert remaining() == Decimal("350")  # 500 - 150 approved
    obligation = services.drawdown_fulfil(request=approved, by=manager)
    assert remaining() == Decimal("350")  # drawn 150, not replenished
    common = {"site": site, "mining_country": "US", "processing_country": "US", "by": manager}
    services.obligation_replenish(obligation=obligation, quantity=Decimal("7.5"), **common)
    assert remaining() == Decimal("350")  # the premium is paid first
    services.obligation_replenish(obligation=obligation, quantity=Decimal("100"), **common)
    assert remaining() == Decimal("450")
    services.obligation_replenish(obligation=obligation, quantity=Decimal("50"), **common)
    assert remaining() == Decimal("500")


def test_replenishment_receives_a_lot_against_the_receivable(approved, manager, site):
    obligation = services.drawdown_fulfil(request=approved, by=manager)
    replenishment = services.obligation_replenish(
        obligation=obligation,
        by=manager,
        quantity=Decimal("100"),
        site=site,
        mining_country="US",
        processing_country="CA",
        supplier="Org A",
        lot_number="RPL-A-1",
    )
    lot = replenishment.lot
    assert (lot.lot_number, lot.on_hand, lot.unit_cost, lot.material_id) == (
        "RPL-A-1",
        Decimal("100"),
        Decimal("80"),
        obligation.material_id,
    )
    receipt = Movement.objects.get(lot=lot)
    assert receipt.kind == "receipt" and receipt.reference == f"DR-{approved.pk}"
    assert account_balance(code="1200") == Decimal("12600.00") - Decimal("8000.00")
    obligation.refresh_from_db()
    assert obligation.replenished_quantity == Decimal("100") and obligation.status == "open"
    approved.refresh_from_db()
    assert approved.status == "fulfilled"
    assert_stock_consistent()


def test_full_replenishment_closes_the_obligation_and_the_request(approved, manager, site):
    obligation = services.drawdown_fulfil(request=approved, by=manager)
    services.obligation_replenish(
        obligation=obligation,
        by=manager,
        quantity=Decimal("57.5"),
        site=site,
        mining_country="US",
        processing_country="US",
    )
    services.obligation_replenish(
        obligation=obligation,
        by=manager,
        quantity=Decimal("100"),
        site=site,
        mining_country="US",
        processing_country="US",
    )
    obligation.refresh_from_db()
    approved.refresh_from_db()
    assert obligation.status == ReplenishmentObligation.Status.REPLENISHED
    assert obligation.closed_at is not None
    assert approved.status == "replenished"
    assert list(approved.transitions.values_list("to_status", flat=True))[-1] == "replenished"
    assert account_balance(code="1200") == Decimal("0.00")
    assert sorted(Lot.objects.filter(lot_number__startswith="RPL-").values_list("lot_number", flat=True)) == [
        f"RPL-{approved.pk}-1",
        f"RPL-{approved.pk}-2",
    ]


def test_replenishing_more_than_due_is_refused(approved, manager, site, nothing_written):
    obligation = services.drawdown_fulfil(request=approved, by=manager)
    with nothing_written(), pytest.raises(InvalidInput) as err:
        services.obligation_replenish(
            obligation=obligation,
            by=manager,
            quantity=Decimal("157.501"),
            site=site,
            mining_country="US",
            processing_country="US",
        )
    assert err.value.field == "quantity"


def test_replenishing_a_closed_obligation_is_a_conflict(approved, manager, site, nothing_written):
    obligation = services.drawdown_fulfil(request=approved, by=manager)
    common = {"site": site, "mining_country": "US", "processing_country": "US", "by": manager}
    services.obligation_replenish(obligation=obligation, quantity=Decimal("157.5"), **common)
    with nothing_written(), pytest.raises(Conflict):
        services.obligation_replenish(obligation=obligation, quantity=Decimal("1"), **common)


def test_a_receipt_dated_in_the_future_is_refused(approved, manager, site, nothing_written):
    obligation = services.drawdown_fulfil(request=approved, by=manager)
    with nothing_written(), pytest.raises(InvalidInput) as err:
        services.obligation_replenish(
            obligation=obligation,
            by=manager,
            quantity=Decimal("1"),
            site=site,
            mining_country="US",
            processing_country="US",
            received_date=timezone.localdate() + timedelta(days=1),
        )
    assert err.value.field == "received_date"


def test_zero_priced_agreement_posts_no_sale(maker_b, manager, org_b, material, stocked, make_request):
    services.agreement_create(
        by=manager,
        organization=org_b,
        material=material,
        quantity=Decimal("100"),
        locked_price=Decimal("0"),
        replenishment_days=30,
    )
    request = make_request(maker_b, "10", replenish_by=days(20))
    services.drawdown_approve(request=request, by=manager)
    services.drawdown_fulfil(request=request, by=manager)
    assert not JournalEntry.objects.filter(source_type="drawdown").exists()
    assert request.obligation.quantity_due == Decimal("10")
