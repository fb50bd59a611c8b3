"""A disruption is declared only with sane dates: not backdated beyond the limit, not too far
ahead, ending on or after its start, lasting at most the configured number of days. The rule
lives in `disruption_declare`; the API and the admin both go through it."""

from datetime import date

import pytest
from django.db import IntegrityError, connection, transaction
from django.test import Client

from tests.clock import travel_to
from tests.factories import days
from vault.accounts.services import roles_sync
from vault.core.errors import InvalidInput
from vault.drawdowns import services
from vault.drawdowns.models import DisruptionEvent

DISRUPTIONS = "/api/v1/disruptions/"
CODE = "disruption_dates_out_of_range"


def on(value: int | date) -> date:
    """Parametrize values are built before the clock travels: an int is that many days from today."""
    return value if isinstance(value, date) else days(value)


def declare(manager, material, starts_on, ends_on):
    return services.disruption_declare(
        by=manager, materials=[material], starts_on=on(starts_on), ends_on=on(ends_on), reason="Export ban"
    )


@pytest.mark.parametrize(
    ("starts_on", "ends_on"),
    [
        (-30, -30),  # backdated exactly to the limit, one day long
        (0, 364),  # 365 days, both ends included
        (365, 400),  # as far ahead as allowed
    ],
)
def test_sane_dates_are_accepted(manager, material, starts_on, ends_on):
    event = declare(manager, material, starts_on, ends_on)
    assert (event.starts_on, event.ends_on) == (on(starts_on), on(ends_on))


@pytest.mark.parametrize(
    ("starts_on", "ends_on", "field"),
    [
        (-31, 5, "starts_on"),  # one day too far back
        (date(2000, 1, 1), 5, "starts_on"),
        (366, 370, "starts_on"),  # one day too far ahead
        (date(9999, 12, 1), date(9999, 12, 31), "starts_on"),
        (5, 4, "ends_on"),  # ends before it starts
        (0, 365, "ends_on"),  # 366 days
        (0, date(9999, 12, 31), "ends_on"),
    ],
)
def test_out_of_range_dates_are_refused_by_the_service(manager, material, starts_on, ends_on, field):
    with pytest.raises(InvalidInput) as err:
        declare(manager, material, starts_on, ends_on)
    assert (err.value.code, err.value.field) == (CODE, field)
    assert DisruptionEvent.objects.count() == 0


def test_limits_are_settings(manager, material, settings):
    settings.VAULT_DISRUPTION_MAX_BACKDATE_DAYS = 2
    settings.VAULT_DISRUPTION_MAX_DAYS = 10
    settings.VAULT_DISRUPTION_MAX_LEAD_DAYS = 7
    declare(manager, material, days(-2), days(7))
    for starts_on, ends_on, field in [
        (days(-3), days(1), "starts_on"),
        (days(8), days(9), "starts_on"),
        (days(0), days(10), "ends_on"),
    ]:
        with pytest.raises(InvalidInput) as err:
            declare(manager, material, starts_on, ends_on)
        assert (err.value.code, err.value.field) == (CODE, field)
    assert DisruptionEvent.objects.count() == 1


def test_the_limit_follows_the_business_day(manager, material):
    start = days(-30)  # the earliest start allowed today...
    with travel_to(days(1)), pytest.raises(InvalidInput) as err:  # ...is a day too far back tomorrow
        declare(manager, material, start, days(1))
    assert err.value.field == "starts_on"
    assert DisruptionEvent.objects.count() == 0


@pytest.mark.parametrize(
    ("starts_on", "ends_on", "field", "limit"),
    [
        (-31, 5, "starts_on", {"earliest_starts_on": -30}),
        (0, 365, "ends_on", {"latest_ends_on": 364}),
        (3, 1, "ends_on", {}),
    ],
)
def test_api_answers_400_with_the_field_and_the_code(api, manager, material, starts_on, ends_on, field, limit):
    body = {"materials": ["NDPR-OX"], "starts_on": str(on(starts_on)), "ends_on": str(on(ends_on)), "reason": "x"}
    response = api(manager).post(DISRUPTIONS, body, format="json")
    assert response.status_code == 400
    payload = response.json()
    assert payload["code"] == CODE
    assert list(payload["errors"]) == [field]
    assert {key: str(on(n)) for key, n in limit.items()}.items() <= payload.items()
    assert DisruptionEvent.objects.count() == 0


def test_admin_form_shows_the_service_error_on_the_field(manager, material):
    roles_sync()
    client = Client()
    client.force_login(manager)
    response = client.post(
        "/admin/drawdowns/disruptionevent/add/",
        {"materials": [material.pk], "starts_on": "2000-01-01", "ends_on": str(days(1)), "reason": "x"},
    )
    assert response.status_code == 400
    assert "starts_on" in response.context["form"].errors
    assert DisruptionEvent.objects.count() == 0


def test_the_database_checks_end_on_or_after_start(manager, material):
    event = declare(manager, material, days(0), days(3))
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE drawdowns_disruptionevent SET ends_on = %s WHERE id = %s", [days(-1), event.pk])
    event.refresh_from_db()
    assert event.ends_on == days(3)
