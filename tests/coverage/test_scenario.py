from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from tests.factories import LotFactory, MaterialFactory
from vault.core.errors import InvalidInput
from vault.coverage import services
from vault.coverage.models import CoverageRun, CoverageSnapshot

D = Decimal


@pytest.fixture
def two_materials(material, site, manager, set_forecast):
    LotFactory(material=material, site=site, initial_quantity="3000", by=manager)
    set_forecast(material, per_month="300")
    other = MaterialFactory(code="DY-OX", coverage_target_days=90)
    LotFactory(material=other, site=site, initial_quantity="100", by=manager)
    set_forecast(other, per_month="10")
    services.inbound_create(
        by=manager, material=material, quantity=D("1500"), expected_date=timezone.localdate() + timedelta(days=20)
    )
    return material, other


def by_code(figures):
    return {f.material: f for f in figures}


def test_no_override_gives_the_figures_of_a_check(two_materials):
    material, _ = two_materials
    baseline = by_code(services.coverage_scenario())
    services.coverage_check()
    snapshot = CoverageSnapshot.objects.get(material=material)
    figures = baseline["NDPR-OX"]
    assert (figures.forward_days, figures.status, figures.usable_stock, figures.depletion_date) == (
        snapshot.forward_days,
        snapshot.status,
        snapshot.usable_stock,
        snapshot.depletion_date,
    )


def test_overrides_lower_coverage_and_nothing_is_saved(two_materials):
    baseline = by_code(services.coverage_scenario())
    more_demand = by_code(services.coverage_scenario(demand_change_pct=D("100")))
    no_inbound = by_code(services.coverage_scenario(inbound_cut_pct=D("100")))
    drawn = by_code(services.coverage_scenario(extra_drawdowns=[{"material": "NDPR-OX", "quantity": D("2000")}]))

    assert more_demand["NDPR-OX"].forward_days < baseline["NDPR-OX"].forward_days
    # 1,500 kg of inbound at ~10 kg a day is worth ~150 days.
    assert baseline["NDPR-OX"].forward_days - no_inbound["NDPR-OX"].forward_days > 140
    assert drawn["NDPR-OX"].usable_stock == D("1000.000")
    assert drawn["NDPR-OX"].forward_days < baseline["NDPR-OX"].forward_days
    assert drawn["DY-OX"] == baseline["DY-OX"]  # the drawdown was for NDPR-OX only
    assert not CoverageRun.objects.exists() and not CoverageSnapshot.objects.exists()


def test_demand_down_100_percent_is_no_demand(two_materials):
    figures = by_code(services.coverage_scenario(demand_change_pct=D("-100")))
    assert figures["NDPR-OX"].forward_days is None and figures["NDPR-OX"].status == "no-demand"


def test_materials_narrow_the_result(two_materials):
    assert [f.material for f in services.coverage_scenario(materials=["DY-OX"])] == ["DY-OX"]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"materials": ["NOPE"]}, "materials"),
        ({"extra_drawdowns": [{"material": "NOPE", "quantity": D("1")}]}, "extra_drawdowns"),
        ({"extra_drawdowns": [{"material": "NDPR-OX", "quantity": D("0")}]}, "extra_drawdowns[0].quantity"),
        ({"demand_change_pct": D("-101")}, "demand_change_pct"),
        ({"inbound_cut_pct": D("101")}, "inbound_cut_pct"),
    ],
)
def test_bad_overrides_are_refused(two_materials, kwargs, field):
    with pytest.raises(InvalidInput) as caught:
        services.coverage_scenario(**kwargs)
    assert caught.value.field == field


def test_materials_outside_the_visible_set_are_unknown(two_materials):
    material, other = two_materials
    with pytest.raises(InvalidInput):
        services.coverage_scenario(materials=["DY-OX"], visible_ids={material.pk})
    assert [f.material for f in services.coverage_scenario(visible_ids={material.pk})] == ["NDPR-OX"]
