"""Every numeric query parameter of every API list answers 400 naming itself for a value that no
database column can hold (SQLite raised OverflowError, a 500; PostgreSQL silently matched nothing)."""

import django_filters
import pytest

from tests.core.api_routes import api_list_views

HUGE = "99999999999999999999"  # > 2**63 - 1


def _numeric_params():
    for path, view in api_list_views():
        for name, filter_ in view.filterset_class.base_filters.items():
            if isinstance(filter_, django_filters.NumberFilter | django_filters.ModelChoiceFilter):
                yield pytest.param(path, name, id=f"{path}?{name}")


NUMERIC_PARAMS = list(dict.fromkeys(_numeric_params()))


def test_the_scan_finds_the_parameters_that_failed():
    found = {(p.values[0], p.values[1]) for p in NUMERIC_PARAMS}
    assert ("/api/v1/movements/", "lot") in found
    assert ("/api/v1/forecasts/", "version") in found


@pytest.mark.parametrize(("path", "param"), NUMERIC_PARAMS)
def test_an_overflowing_number_is_a_400_naming_the_parameter(api, manager, path, param):
    response = api(manager).get(path, {param: HUGE})
    assert response.status_code == 400, response.content
    assert param in response.json()["errors"]
