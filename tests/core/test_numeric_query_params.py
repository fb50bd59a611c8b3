"""Every numeric query parameter of every API list answers 400 naming itself for a value that no
database column can hold (SQLite raised OverflowError, a 500; PostgreSQL silently matched nothing)."""

import django_filters
import pytest
from django.urls import URLPattern, URLResolver, get_resolver

HUGE = "99999999999999999999"  # > 2**63 - 1


def _api_list_views():
    """(path, view class) of every API list route whose view declares a FilterSet."""

    def walk(patterns, prefix=""):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns, prefix + str(pattern.pattern))
            elif isinstance(pattern, URLPattern):
                yield prefix + str(pattern.pattern), pattern.callback

    for route, callback in walk(get_resolver().url_patterns):
        view = getattr(callback, "cls", None)
        actions = getattr(callback, "actions", None) or {}
        if not route.startswith("api/v1/") or "<" in route or "(?P<format>" in route:
            continue
        if view is None or getattr(view, "filterset_class", None) is None or actions.get("get") not in (None, "list"):
            continue
        yield "/" + route.replace("^", "").replace("$", ""), view


def _numeric_params():
    for path, view in _api_list_views():
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
