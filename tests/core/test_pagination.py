import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from tests.factories import MaterialFactory
from vault.core.pagination import PagePagination
from vault.inventory.models import Material


def _page(**params):
    request = Request(APIRequestFactory().get("/api/v1/materials/", params))
    paginator = PagePagination()
    rows = paginator.paginate_queryset(Material.objects.order_by("code"), request)
    return paginator, rows, paginator.get_paginated_response([m.code for m in rows]).data


@pytest.fixture
def materials(db):
    return [MaterialFactory(code=f"M{n:02d}") for n in range(7)]


def test_pages_without_counting(materials):
    with CaptureQueriesContext(connection) as ctx:
        _, rows, data = _page(page_size=3)
    assert len(ctx.captured_queries) == 1
    assert "count" not in ctx.captured_queries[0]["sql"].lower()
    assert data["results"] == ["M00", "M01", "M02"]
    assert data["previous"] is None
    assert data["next"] == "http://testserver/api/v1/materials/?page=2&page_size=3"
    assert "count" not in data


def test_middle_and_last_pages(materials):
    _, _, middle = _page(page_size=3, page=2)
    assert middle["results"] == ["M03", "M04", "M05"]
    assert middle["previous"] == "http://testserver/api/v1/materials/?page_size=3"
    _, _, last = _page(page_size=3, page=3)
    assert (last["results"], last["next"]) == (["M06"], None)


def test_exact_multiple_has_no_empty_next_page(materials):
    _, _, data = _page(page_size=7)
    assert len(data["results"]) == 7 and data["next"] is None


def test_default_and_maximum_page_size(materials):
    paginator, _, _ = _page()
    assert paginator.size == 50
    paginator, _, _ = _page(page_size=100000)
    assert paginator.size == 1000


@pytest.mark.parametrize("value", ["0", "-1", "abc", "1.5"])
def test_bad_page_size_is_a_400_naming_it(materials, value):
    with pytest.raises(ValidationError) as exc:
        _page(page_size=value)
    assert "page_size" in exc.value.detail


@pytest.mark.parametrize("value", ["0", "x", "99"])
def test_bad_or_past_the_end_page_is_404(materials, value):
    with pytest.raises(NotFound):
        _page(page=value)


def test_empty_first_page_is_fine(db):
    _, rows, data = _page()
    assert rows == [] and data["results"] == [] and data["next"] is None
