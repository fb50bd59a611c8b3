from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import LotFactory, MaterialFactory, SiteFactory
from vault.inventory.services import lot_reserve, lot_set_status

URL = "/api/v1/positions/"


def test_anonymous_is_refused(api, lot):
    assert api(None).get(URL).status_code == 401


@pytest.mark.parametrize(("who", "status"), [("manager", 200), ("finance", 200), ("auditor", 200), ("maker_a", 403)])
def test_who_reads_positions(api, lot, who, status, request):
    assert api(request.getfixturevalue(who)).get(URL).status_code == status


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_positions_are_read_only(api, manager, lot, method):
    response = getattr(api(manager), method)(URL, {"on_hand": "1"})
    assert response.status_code == 405


def test_position_shows_on_hand_reserved_and_available(api, auditor, manager, lot, make_lot):
    quarantined = make_lot("200")
    lot_set_status(lot=quarantined, status="quarantine", by=manager)
    lot_reserve(lot=lot, quantity=Decimal("300"))
    (row,) = api(auditor).get(URL).json()["results"]
    assert row == {
        "material": "NDPR-OX",
        "site": "DEPOT-A",
        "on_hand": "1200.000",
        "reserved": "300.000",
        "unavailable": "200.000",
        "available": "700.000",
    }


def test_filters(api, auditor, manager, material, site, other_site, other_material):
    for m, s in [(material, site), (material, other_site), (other_material, other_site)]:
        LotFactory(material=m, site=s, initial_quantity="10", by=manager)
    client = api(auditor)

    def keys(**params):
        response = client.get(URL, params)
        assert response.status_code == 200
        return [(row["material"], row["site"]) for row in response.json()["results"]]

    assert keys() == [("DY-OX", "DEPOT-B"), ("NDPR-OX", "DEPOT-A"), ("NDPR-OX", "DEPOT-B")]
    assert keys(material="NDPR-OX") == [("NDPR-OX", "DEPOT-A"), ("NDPR-OX", "DEPOT-B")]
    assert keys(site="DEPOT-B") == [("DY-OX", "DEPOT-B"), ("NDPR-OX", "DEPOT-B")]
    assert keys(material="DY-OX", site="DEPOT-A") == []
    assert keys(page_size=1) == [("DY-OX", "DEPOT-B")]


def test_query_count_does_not_grow(api, auditor, manager):
    def queries(n):
        for _ in range(n):
            LotFactory(material=MaterialFactory(), site=SiteFactory(), initial_quantity="1", by=manager)
        with CaptureQueriesContext(connection) as ctx:
            response = api(auditor).get(URL, {"page_size": 100})
        assert response.status_code == 200
        return len(ctx.captured_queries), len(response.json()["results"])

    small, rows = queries(3)
    assert rows == 3
    assert queries(27) == (small, 30)
    assert small <= 2
