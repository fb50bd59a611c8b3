"""Every date query parameter of every API FilterSet answers 400 naming itself for a date outside
1900-01-01..9998-12-31 (`?date_to=9999-12-31` on movements added a day to date.max: an
OverflowError, a 500)."""

import importlib
from datetime import date

import django_filters
import pytest
from django.apps import apps

from tests.core.api_routes import api_list_views
from vault.core.filters import MAX_DATE, MIN_DATE, BoundedDateFilter

OUT_OF_RANGE = ["9999-12-31", "0001-01-01"]


def _date_params():
    for path, view in api_list_views():
        for name, filter_ in view.filterset_class.base_filters.items():
            if isinstance(filter_, django_filters.DateFilter):
                yield path, name


DATE_PARAMS = list(dict.fromkeys(_date_params()))


def _filtersets():
    """Every FilterSet of every app's filters module (list routes, and actions such as history/)."""
    for config in apps.get_app_configs():
        if not config.name.startswith("vault."):
            continue
        try:
            module = importlib.import_module(f"{config.name}.filters")
        except ModuleNotFoundError:
            continue
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, django_filters.FilterSet)
                and value.__module__ == module.__name__
            ):
                yield value


def test_the_scan_finds_the_parameters_that_failed():
    assert ("/api/v1/movements/", "date_to") in DATE_PARAMS
    assert ("/api/v1/ledger/entries/", "date_from") in DATE_PARAMS
    assert ("/api/v1/tranches/", "expected_to") in DATE_PARAMS


def test_every_date_filter_of_every_filterset_is_the_bounded_one():
    found = 0
    for filterset in _filtersets():
        for name, filter_ in filterset.base_filters.items():
            if isinstance(filter_, django_filters.DateFilter | django_filters.DateTimeFilter):
                found += 1
                assert isinstance(filter_, BoundedDateFilter), f"{filterset.__name__}.{name}"
    assert found >= len(DATE_PARAMS) > 0


@pytest.mark.parametrize("value", OUT_OF_RANGE)
@pytest.mark.parametrize(("path", "param"), [pytest.param(*p, id=f"{p[0]}?{p[1]}") for p in DATE_PARAMS])
def test_an_out_of_range_date_is_a_400_naming_the_parameter(api, manager, path, param, value):
    response = api(manager).get(path, {param: value})
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == "invalid"
    assert "between 1900-01-01 and 9998-12-31" in body["errors"][param][0]


@pytest.mark.parametrize("value", OUT_OF_RANGE)
def test_the_history_action_bounds_its_dates_too(api, manager, material, value):
    response = api(manager).get(f"/api/v1/coverage/{material.code}/history/", {"date_to": value})
    assert response.status_code == 400, response.content
    assert "date_to" in response.json()["errors"]


@pytest.mark.parametrize("param", ["date_from", "date_to"])
def test_the_bounds_themselves_are_accepted_and_filter(api, manager, lot, param):
    """The first and last accepted day answer 200: date_to=MAX_DATE computes 9999-01-01 (no overflow)."""
    bound = (MIN_DATE if param == "date_from" else MAX_DATE).isoformat()
    response = api(manager).get("/api/v1/movements/", {param: bound})
    assert response.status_code == 200, response.content
    assert len(response.json()["results"]) == 1  # the lot's receipt
    outside = {"date_from": MAX_DATE, "date_to": MIN_DATE}[param].isoformat()
    assert api(manager).get("/api/v1/movements/", {param: outside}).json()["results"] == []


def test_the_bounds_leave_room_for_the_next_day():
    assert date.min < MIN_DATE <= MAX_DATE < date.max
