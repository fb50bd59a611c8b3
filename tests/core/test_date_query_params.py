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


def _serializer_date_fields():
    """(serializer, field) of every writable date field of every serializer of every app."""
    from rest_framework import serializers

    for config in apps.get_app_configs():
        if not config.name.startswith("vault."):
            continue
        try:
            module = importlib.import_module(f"{config.name}.serializers")
        except ModuleNotFoundError:
            continue
        for value in vars(module).values():
            if not (
                isinstance(value, type)
                and issubclass(value, serializers.Serializer)
                and value.__module__ == module.__name__
                and (not issubclass(value, serializers.ModelSerializer) or hasattr(value, "Meta"))
            ):
                continue
            for name, field in value().fields.items():
                if isinstance(field, serializers.DateField) and not field.read_only:
                    yield value, name, field


def test_every_date_a_serializer_reads_is_the_bounded_one():
    """Bodies and serializer-read query parameters (as_of, the ledger export's dates), declared
    fields and the ones ModelSerializer generates from model DateFields alike."""
    from vault.core.serializers import BoundedDateField

    found = list(_serializer_date_fields())
    names = {(serializer.__name__, name) for serializer, name, _ in found}
    assert {
        ("AsOfSerializer", "as_of"),
        ("LedgerExportQuerySerializer", "date_to"),
        ("LotSerializer", "received_date"),
    } <= names
    for serializer, name, field in found:
        assert isinstance(field, BoundedDateField), f"{serializer.__name__}.{name}"


def _schema_date_query_params():
    """(path, parameter) of every GET route without path parameters whose schema declares a date
    query parameter: FilterSets' and the ones views read through a serializer."""
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    for path, operations in schema["paths"].items():
        get = operations.get("get")
        if get is None or "{" in path:
            continue
        for param in get.get("parameters", []):
            if param.get("in") == "query" and param.get("schema", {}).get("format") == "date":
                yield path, param["name"]


@pytest.mark.parametrize("value", OUT_OF_RANGE)
def test_serializer_read_query_dates_are_bounded_too(api, manager, value):
    """`?as_of=9999-12-31` on the balances, the trial balance and the valuation, and the ledger
    export's and statement's dates: a 400 naming the parameter, whatever reads it."""
    params = list(dict.fromkeys(_schema_date_query_params()))
    assert ("/api/v1/ledger/trial-balance/", "as_of") in params
    assert ("/api/v1/ledger/export.csv", "date_to") in params
    for path, param in params:
        response = api(manager).get(path, {param: value})
        assert response.status_code == 400, (path, param, response.content)
        assert param in response.json()["errors"], (path, param, response.json())


@pytest.mark.parametrize("value", OUT_OF_RANGE)
def test_a_body_date_out_of_range_is_a_400_naming_the_field(api, finance, value):
    """A date in a body (here a ledger entry's) is refused before anything is written."""
    from vault.ledger.models import JournalEntry

    response = api(finance).post(
        "/api/v1/ledger/manual-entries/", {"date": value, "memo": "far", "lines": []}, format="json"
    )
    assert response.status_code == 400, response.content
    assert "between 1900-01-01 and 9998-12-31" in response.json()["errors"]["date"][0]
    assert not JournalEntry.objects.exists()
