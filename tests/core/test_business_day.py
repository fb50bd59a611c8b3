"""Vault's "today" is the program's business day in New York (settings.TIME_ZONE), not UTC's:
late in the New York evening UTC is already on the next day, and whatever Vault dates "today"
(ledger entries, checks, request rules, date filters) must still say today."""

import os
from datetime import time, timedelta
from decimal import Decimal

import pytest
from django.conf import settings
from django.utils import timezone

from tests.clock import travel_to
from tests.factories import LotFactory
from vault.coverage import services as coverage
from vault.drawdowns import services as drawdowns
from vault.ledger.models import JournalEntry

D = Decimal
LATE = time(21, 30)  # 02:30 UTC the next day (01:30 in summer time)


@pytest.fixture
def evening():
    """21:30 in New York on the test day; yields that (business) day."""
    if "TIME_ZONE" in os.environ:
        pytest.skip("TIME_ZONE is set in the environment: these tests are about the default, New York")
    day = timezone.localdate()
    with travel_to(day, LATE):
        assert timezone.now().date() == day + timedelta(days=1)  # UTC has moved on
        assert timezone.localdate() == day
        yield day


def test_the_business_day_is_new_yorks_and_celery_follows_it(evening):
    assert settings.TIME_ZONE == "America/New_York"
    assert settings.CELERY_TIMEZONE == settings.TIME_ZONE


def test_an_evening_receipt_is_booked_and_found_on_the_business_day(evening, api, auditor, material, site, manager):
    lot = LotFactory(material=material, site=site, initial_quantity="10", by=manager, received_date=evening)
    movement = lot.movements.get()
    assert movement.business_date == evening
    assert JournalEntry.objects.get(source_type="movement", source_id=movement.pk).date == evening

    def found(**params):
        response = api(auditor).get("/api/v1/movements/", params)
        assert response.status_code == 200, response.json()
        return [row["id"] for row in response.json()["results"]]

    assert found(date_from=str(evening), date_to=str(evening)) == [movement.pk]
    assert found(date_from=str(evening + timedelta(days=1))) == []


def test_a_request_needed_today_is_not_in_the_past_in_the_evening(evening, maker_a, agreement_a, lot):
    request = drawdowns.drawdown_create(
        by=maker_a,
        material=lot.material,
        quantity=D("10"),
        needed_by=evening,
        replenish_by=evening + timedelta(days=agreement_a.replenishment_days),  # the window's last day
        submit=True,
    )
    assert request.status == "submitted"


def test_an_evening_coverage_check_is_as_of_the_business_day(evening, lot):
    assert coverage.coverage_check().as_of == evening
