from datetime import date, timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from tests.clock import travel_to
from tests.factories import LotFactory, MaterialFactory
from vault.core.errors import Conflict, InvalidInput
from vault.financing import selectors, services
from vault.financing.models import PricePoint
from vault.inventory.services import movement_release


@pytest.fixture
def holdings(material, site, manager):
    """NDPR-OX: 1,000 kg at 50 received 10 March, 400 kg released 10 April.
    DY-OX: 10 kg at 300 received 10 March."""
    with travel_to(date(2026, 3, 10)):
        lot = LotFactory(
            material=material,
            site=site,
            initial_quantity="1000",
            unit_cost="50.00",
            by=manager,
            received_date=date(2026, 3, 10),
        )
        dy = MaterialFactory(code="DY-OX", price_floor=Decimal("250"))
        LotFactory(
            material=dy,
            site=site,
            initial_quantity="10",
            unit_cost="300.00",
            by=manager,
            received_date=date(2026, 3, 10),
        )
    with travel_to(date(2026, 4, 10)):
        movement_release(lot=lot, quantity=Decimal("400"), by=manager)
    material.price_floor = Decimal("110")
    material.save(update_fields=["price_floor"])
    return material, dy


def _price(material, day, usd, source="Assessment A"):
    return PricePoint.objects.create(material=material, date=day, usd_per_kg=Decimal(usd), source=source)


def test_past_dates_use_the_quantities_held_then(holdings):
    ndpr, _ = holdings
    _price(ndpr, date(2026, 3, 1), "60")

    march = {r.material: r for r in selectors.holdings_valuation(as_of=date(2026, 3, 31)).materials}
    april = {r.material: r for r in selectors.holdings_valuation(as_of=date(2026, 4, 30)).materials}
    before = selectors.holdings_valuation(as_of=date(2026, 3, 9))

    assert (march["NDPR-OX"].quantity_kg, march["NDPR-OX"].cost) == (Decimal("1000"), Decimal("50000.00"))
    assert (april["NDPR-OX"].quantity_kg, april["NDPR-OX"].cost) == (Decimal("600"), Decimal("30000.00"))
    assert before.materials == []
    assert march["NDPR-OX"].market_value == Decimal("60000.00")
    assert april["NDPR-OX"].market_value == Decimal("36000.00")


def test_market_floor_and_unrealised_gain_per_material_and_total(holdings):
    ndpr, dy = holdings
    _price(ndpr, date(2026, 3, 1), "60")
    _price(ndpr, date(2026, 4, 1), "45.5")
    _price(ndpr, date(2026, 5, 1), "99")  # after as_of: ignored
    _price(dy, date(2026, 2, 1), "320")

    valuation = selectors.holdings_valuation(as_of=date(2026, 4, 30))

    rows = {r.material: r for r in valuation.materials}
    ndpr_row, dy_row = rows["NDPR-OX"], rows["DY-OX"]
    assert (ndpr_row.market_price, ndpr_row.price_date, ndpr_row.price_source) == (
        Decimal("45.5"),
        date(2026, 4, 1),
        "Assessment A",
    )
    assert ndpr_row.market_value == Decimal("27300.00")
    assert ndpr_row.unrealised_gain_loss == Decimal("-2700.00")
    assert ndpr_row.floor_value == Decimal("66000.00")
    assert ndpr_row.average_cost_per_kg == Decimal("50.0000")
    assert (dy_row.market_value, dy_row.unrealised_gain_loss, dy_row.floor_value) == (
        Decimal("3200.00"),
        Decimal("200.00"),
        Decimal("2500.00"),
    )
    assert valuation.total_cost == Decimal("33000.00")
    assert valuation.total_market_value == Decimal("30500.00")
    assert valuation.total_floor_value == Decimal("68500.00")
    assert valuation.total_unrealised_gain_loss == Decimal("-2500.00")
    assert valuation.unpriced == []


def test_unpriced_materials_stay_out_of_the_market_total_and_sources_can_be_chosen(holdings):
    ndpr, _ = holdings
    _price(ndpr, date(2026, 4, 1), "70", source="Assessment A")
    _price(ndpr, date(2026, 4, 2), "80", source="Assessment B")

    default = selectors.holdings_valuation(as_of=date(2026, 4, 30))
    only_a = selectors.holdings_valuation(as_of=date(2026, 4, 30), source="Assessment A")

    assert default.unpriced == ["DY-OX"]
    assert default.total_market_value == Decimal("48000.00")  # latest price: B, 80 x 600
    assert only_a.total_market_value == Decimal("42000.00")
    assert default.total_unrealised_gain_loss == Decimal("18000.00")


def test_today_from_lots_equals_the_movement_history(holdings, lot):
    movement_release(lot=lot, quantity=Decimal("123.456"), by=lot.movements.first().created_by)
    today = timezone.localdate()
    from_lots = selectors.holdings_as_of(today)
    with travel_to(today + timedelta(days=1)):  # a past day's holdings come from the movements
        from_movements = selectors.holdings_as_of(today)
    assert from_lots == from_movements
    assert from_lots[lot.material_id][0] == Decimal("600") + Decimal("1000") - Decimal("123.456")


def test_valuation_costs_two_queries_whatever_the_number_of_materials(holdings, django_assert_num_queries):
    with django_assert_num_queries(2):
        selectors.holdings_valuation(as_of=date(2026, 4, 30))
    with django_assert_num_queries(2):
        selectors.holdings_valuation()


# --- prices ------------------------------------------------------------------------------------


def test_price_point_create_validates(material, finance):
    price = services.price_point_create(
        material=material, date=date(2026, 3, 1), usd_per_kg=Decimal("61.2500"), source="Fastmarkets", by=finance
    )
    assert price.created_by == finance
    with pytest.raises(Conflict) as same:
        services.price_point_create(
            material=material, date=date(2026, 3, 1), usd_per_kg=Decimal("61.25"), source="Fastmarkets", by=finance
        )
    assert same.value.code == "price_exists"
    for bad, field in [("-1", "usd_per_kg"), ("1.00001", "usd_per_kg")]:
        with pytest.raises(InvalidInput) as exc:
            services.price_point_create(
                material=material, date=date(2026, 3, 2), usd_per_kg=bad, source="X", by=finance
            )
        assert exc.value.field == field
    with pytest.raises(InvalidInput) as exc:
        services.price_point_create(material=material, date=date(2026, 3, 2), usd_per_kg="1", source=" ", by=finance)
    assert exc.value.field == "source"
    assert PricePoint.objects.count() == 1


CSV = """material,date,usd_per_kg,source
NDPR-OX,2026-03-01,60.5,Assessment A
NDPR-OX,2026-04-01,65,Assessment A
DY-OX,2026-03-01,300,Assessment A
"""


def test_import_creates_then_updates(holdings, finance):
    assert services.price_points_import(text=CSV, by=finance) == services.PriceImport(created=3, updated=0)
    changed = CSV.replace("65,", "66,")
    result = services.price_points_import(text=changed, by=finance)
    assert (result.created, result.updated, result.unchanged) == (0, 1, 2)
    [correction] = result.pending
    assert (correction.usd_per_kg, correction.version, correction.status) == (Decimal("66"), 2, "pending")
    assert PricePoint.objects.count() == 4  # the first version stays: a correction is a new row


def test_import_is_all_or_nothing_and_names_the_bad_lines(holdings, finance):
    bad = CSV + "NOPE,2026-03-01,1,X\nNDPR-OX,01/03/2026,1,X\nNDPR-OX,2026-05-01,-3,X\n"
    with pytest.raises(InvalidInput) as exc:
        services.price_points_import(text=bad, by=finance)
    assert exc.value.field == "file"
    assert "line 5" in exc.value.message and "line 6" in exc.value.message and "line 7" in exc.value.message
    assert PricePoint.objects.count() == 0


def test_import_without_source_column_needs_a_default(holdings, finance):
    text = "material,date,usd_per_kg\nNDPR-OX,2026-03-01,60\n"
    with pytest.raises(InvalidInput):
        services.price_points_import(text=text, by=finance)
    services.price_points_import(text=text, by=finance, default_source="Desk quote")
    assert PricePoint.objects.get().source == "Desk quote"


def test_import_prices_command(holdings, tmp_path):
    path = tmp_path / "prices.csv"
    path.write_text("\ufeff" + CSV, encoding="utf-8")
    out = StringIO()
    call_command("import_prices", str(path), stdout=out)
    assert "Imported 3 new and 0 corrected" in out.getvalue()
    assert PricePoint.objects.count() == 3

    path.write_text("material,date,usd_per_kg,source\nNDPR-OX,bad,1,X\n", encoding="utf-8")
    with pytest.raises(CommandError, match="line 2"):
        call_command("import_prices", str(path))
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("import_prices", str(tmp_path / "missing.csv"))


@pytest.mark.parametrize(
    "text",
    [
        "material,date,usd_per_kg,source\nNDPR-OX,2026-03-01,1e400,A\n",
        "material,date,usd_per_kg,source\nNDPR-OX,2026-03-01,NaN,A\n",
        "material,date,usd_per_kg,source\nNDPR-OX,2026-03-01,10000000000,A\n",
        'material,date,usd_per_kg,source\n"NDPR-OX' + "x" * 200_000 + "\n",
        "\x00\x01\x02",
        "",
    ],
)
def test_import_refuses_garbage_with_a_400(holdings, finance, text):
    with pytest.raises(InvalidInput) as exc:
        services.price_points_import(text=text, by=finance)
    assert exc.value.field == "file"
    assert PricePoint.objects.count() == 0
