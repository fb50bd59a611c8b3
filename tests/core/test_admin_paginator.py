import pytest
from django.db import connection

from tests.factories import MaterialFactory
from vault.core.admin import EstimatedCountPaginator
from vault.inventory.models import Material


class SmallLimit(EstimatedCountPaginator):
    limit = 5


@pytest.fixture
def materials(db):
    return [MaterialFactory(code=f"M{n:02d}", form="metal" if n % 2 else "oxide") for n in range(12)]


def test_small_results_are_counted_exactly(materials):
    assert EstimatedCountPaginator(Material.objects.all(), 50).count == 12
    assert EstimatedCountPaginator(Material.objects.filter(form="metal"), 50).count == 6


def test_filtered_count_stops_at_the_limit(materials, django_assert_num_queries):
    paginator = SmallLimit(Material.objects.filter(form__in=["metal", "oxide"]).order_by("code"), 2)
    with django_assert_num_queries(1) as ctx:
        assert paginator.count == 6  # limit + 1: "more than 5"
    assert "LIMIT 6" in ctx.captured_queries[0]["sql"]
    assert paginator.num_pages == 3
    assert [m.code for m in paginator.page(2)] == ["M02", "M03"]


@pytest.mark.postgres
def test_unfiltered_large_table_uses_the_planner_estimate(materials, django_assert_num_queries):
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE inventory_material")
    with django_assert_num_queries(1) as ctx:
        assert SmallLimit(Material.objects.all(), 2).count == 12
    assert "reltuples" in ctx.captured_queries[0]["sql"]
