"""Business dates of movements: backdated movements post their journal entry on their own
date, a future date, a date before the lot was received and a date in a closed period are
refused, reports as of a date read business dates, and the demo holdings show on 30 June."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from tests.factories import SiteFactory
from vault.accounts import demo as accounts_demo
from vault.accounts.models import User
from vault.core.errors import Conflict, InsufficientStock, InvalidInput
from vault.inventory import demo as inventory_demo
from vault.inventory import selectors
from vault.inventory.models import Movement
from vault.inventory.services import (
    lot_create,
    movement_adjust,
    movement_receipt,
    movement_release,
    movement_reverse,
    movement_transfer,
    movement_write_off,
)
from vault.ledger import services as ledger_services
from vault.ledger.models import JournalEntry
from vault.ledger.selectors import account_balance, trial_balance

URL = "/api/v1/movements/"
APRIL = date(2026, 4, 15)
MARCH_END = date(2026, 3, 31)


def _entry(movement: Movement) -> JournalEntry:
    return JournalEntry.objects.get(source_type="movement", source_id=movement.pk, reverses__isnull=True)


def test_a_backdated_receipt_posts_its_entry_on_its_business_date(lot, manager):
    receipt = movement_receipt(lot=lot, quantity=Decimal("10"), by=manager, business_date=APRIL)
    assert receipt.business_date == APRIL
    assert receipt.created_at.date() == timezone.localdate()
    assert _entry(receipt).date == APRIL
    assert account_balance(code="1300", as_of=APRIL) == Decimal("50500.00")


def test_the_initial_receipt_is_dated_on_the_lots_received_date(lot):
    receipt = lot.movements.get()
    assert receipt.business_date == lot.received_date == date(2026, 3, 1)
    assert _entry(receipt).date == lot.received_date


def test_the_business_date_defaults_to_today(lot, manager):
    release = movement_release(lot=lot, quantity=Decimal("1"), by=manager)
    assert release.business_date == _entry(release).date == timezone.localdate()


@pytest.mark.parametrize("service", [movement_receipt, movement_adjust, movement_write_off, movement_release])
def test_a_future_business_date_is_refused(service, lot, manager, unchanged):
    tomorrow = timezone.localdate() + timedelta(days=1)
    with unchanged(), pytest.raises(InvalidInput) as refused:
        service(lot=lot, quantity=Decimal("1"), by=manager, reason="count", business_date=tomorrow)
    assert (refused.value.code, refused.value.field, refused.value.status_code) == (
        "business_date_future",
        "business_date",
        400,
    )


def test_a_movement_before_the_lot_was_received_is_refused(lot, manager, unchanged):
    with unchanged(), pytest.raises(InvalidInput) as refused:
        movement_write_off(lot=lot, quantity=Decimal("1"), by=manager, reason="lost", business_date=date(2026, 2, 1))
    assert (refused.value.code, refused.value.field) == ("business_date_before_receipt", "business_date")


def test_a_business_date_in_a_closed_period_is_refused_with_409(lot, manager, finance, unchanged):
    ledger_services.period_close(through=MARCH_END, by=finance)
    with unchanged(), pytest.raises(Conflict) as refused:
        movement_receipt(lot=lot, quantity=Decimal("1"), by=manager, business_date=MARCH_END)
    assert (refused.value.code, refused.value.field, refused.value.status_code) == (
        "period_closed",
        "business_date",
        409,
    )
    movement_receipt(lot=lot, quantity=Decimal("1"), by=manager, business_date=MARCH_END + timedelta(days=1))


def test_a_lot_received_in_a_closed_period_is_refused_on_received_date(material, site, manager, finance):
    ledger_services.period_close(through=MARCH_END, by=finance)
    with pytest.raises(Conflict) as refused:
        lot_create(
            by=manager,
            lot_number="LATE-1",
            material=material,
            site=site,
            mining_country="US",
            processing_country="US",
            received_date=date(2026, 3, 20),
            unit_cost=Decimal("10"),
            initial_quantity=Decimal("5"),
        )
    assert (refused.value.code, refused.value.field) == ("period_closed", "received_date")


def test_a_backdated_outflow_cannot_take_the_lots_history_below_zero(lot, manager):
    movement_release(lot=lot, quantity=Decimal("900"), by=manager, business_date=date(2026, 5, 1))
    movement_receipt(lot=lot, quantity=Decimal("500"), by=manager)  # today: 600 on hand now
    with pytest.raises(InsufficientStock):  # on 1 May onwards only 100 kg were left until today
        movement_write_off(lot=lot, quantity=Decimal("200"), by=manager, reason="lost", business_date=APRIL)
    movement_write_off(lot=lot, quantity=Decimal("100"), by=manager, reason="lost", business_date=APRIL)


def test_a_backdated_transfer_dates_both_legs(lot, manager):
    depot = SiteFactory(code="DEPOT-B")
    out_leg = movement_transfer(lot=lot, quantity=Decimal("10"), to_site=depot, by=manager, business_date=APRIL)
    assert out_leg.business_date == out_leg.counterpart.business_date == APRIL


def test_a_reversal_is_dated_on_its_day_never_before_the_original(lot, manager):
    release = movement_release(lot=lot, quantity=Decimal("10"), by=manager, business_date=APRIL)
    with pytest.raises(InvalidInput) as refused:
        movement_reverse(movement=release, by=manager, reason="typo", business_date=date(2026, 4, 1))
    assert refused.value.code == "reversal_before_original"
    reversal = movement_reverse(movement=release, by=manager, reason="typo", business_date=date(2026, 4, 20))
    assert reversal.business_date == date(2026, 4, 20)
    assert JournalEntry.objects.get(reverses=_entry(release)).date == date(2026, 4, 20)


def test_a_reversal_asked_in_a_closed_period_lands_on_the_first_open_day(lot, manager, finance):
    release = movement_release(lot=lot, quantity=Decimal("10"), by=manager, business_date=date(2026, 3, 10))
    ledger_services.period_close(through=MARCH_END, by=finance)
    reversal = movement_reverse(movement=release, by=manager, reason="typo", business_date=date(2026, 3, 15))
    first_open = MARCH_END + timedelta(days=1)
    assert reversal.business_date == first_open
    assert JournalEntry.objects.get(reverses=_entry(release)).date == first_open


def test_holdings_through_a_date_read_business_dates(lot, manager, material):
    movement_receipt(lot=lot, quantity=Decimal("10"), by=manager, business_date=APRIL)
    assert selectors.holdings_through(date(2026, 2, 28)) == {}
    assert selectors.holdings_through(MARCH_END) == {material.pk: (Decimal("1000.000"), Decimal("50000.00"))}
    assert selectors.holdings_through(APRIL) == {material.pk: (Decimal("1010.000"), Decimal("50500.00"))}


def test_the_api_accepts_and_shows_the_business_date(api, manager, lot):
    response = api(manager).post(
        URL, {"kind": "receipt", "lot": lot.pk, "quantity": "5", "business_date": "2026-04-15"}, format="json"
    )
    assert response.status_code == 201, response.json()
    assert response.json()["business_date"] == "2026-04-15"
    assert _entry(Movement.objects.get(pk=response.json()["id"])).date == APRIL
    listed = api(manager).get(URL, {"date_from": "2026-04-01", "date_to": "2026-04-30"}).json()
    assert [row["id"] for row in listed["results"]] == [response.json()["id"]]


def test_the_api_refuses_a_future_and_a_closed_business_date(api, manager, finance, lot):
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    body = {"kind": "receipt", "lot": lot.pk, "quantity": "5", "business_date": tomorrow}
    response = api(manager).post(URL, body, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "business_date_future"
    ledger_services.period_close(through=MARCH_END, by=finance)
    response = api(manager).post(URL, {**body, "business_date": "2026-03-31"}, format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "period_closed"


def test_the_api_reverses_on_a_business_date(api, manager, lot):
    release = movement_release(lot=lot, quantity=Decimal("10"), by=manager, business_date=APRIL)
    response = api(manager).post(
        f"{URL}{release.pk}/reverse/", {"reason": "typo", "business_date": "2026-04-16"}, format="json"
    )
    assert response.status_code == 201, response.json()
    assert response.json()["business_date"] == "2026-04-16"


def test_the_demo_holdings_show_in_the_trial_balance_as_of_30_june(db, api, finance):
    accounts_demo.seed()
    manager = User.objects.get(username="manager")
    inventory_demo.seed(by=manager)
    received = sorted(Movement.objects.values_list("business_date", flat=True))
    assert date(2026, 3, 1) <= received[0] and received[-1] <= date(2026, 6, 30)
    june_end = date(2026, 6, 30)
    expected = sum(value for _, value in selectors.holdings_through(june_end).values())
    assert expected > Decimal("100000000")
    assert account_balance(code="1300", as_of=june_end) == expected
    assert trial_balance(as_of=date(2026, 2, 28)).rows == []
    body = api(finance).get("/api/v1/ledger/trial-balance/", {"as_of": "2026-06-30"}).json()
    inventory = next(row for row in body["rows"] if row["code"] == "1300")
    assert Decimal(inventory["debit"]) == expected
