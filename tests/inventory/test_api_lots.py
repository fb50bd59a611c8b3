from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import LotFactory, MaterialFactory, SiteFactory
from tests.inventory.invariants import assert_holdings_consistent
from vault.inventory.models import Lot, Movement, Position
from vault.inventory.services import lot_reserve

URL = "/api/v1/lots/"


def _body(**overrides):
    return {
        "lot_number": "MP-2026-001",
        "material": "NDPR-OX",
        "site": "DEPOT-A",
        "mining_country": "US",
        "processing_country": "US",
        "supplier": "MP Materials",
        "received_date": "2026-02-01",
        "unit_cost": "72.5000",
        "assay_certificate": "SGS-123",
        **overrides,
    }


def test_anonymous_is_refused(api, lot):
    assert api(None).get(URL).status_code == 401


@pytest.mark.parametrize(("who", "status"), [("manager", 200), ("finance", 200), ("auditor", 200), ("maker_a", 403)])
def test_who_reads_lots(api, lot, who, status, request):
    client = api(request.getfixturevalue(who))
    assert client.get(URL).status_code == status
    assert client.get(f"{URL}{lot.pk}/").status_code == status


def test_lot_shape(api, auditor, lot):
    body = api(auditor).get(f"{URL}{lot.pk}/").json()
    assert body == {
        "id": lot.pk,
        "lot_number": lot.lot_number,
        "material": "NDPR-OX",
        "site": "DEPOT-A",
        "status": "available",
        "mining_country": "AU",
        "processing_country": "MY",
        "supplier": "Lynas",
        "received_date": "2026-03-01",
        "unit_cost": "50.0000",
        "assay_certificate": "",
        "on_hand": "1000.000",
        "reserved": "0.000",
    }


def test_manager_creates_a_lot_with_its_initial_receipt(api, manager, material, site):
    response = api(manager).post(URL, _body(initial_quantity="250.5", on_hand="99999", reserved="5"))
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["on_hand"], body["reserved"]) == ("250.500", "0.000")  # read-only: typed values are ignored
    assert "initial_quantity" not in body
    lot = Lot.objects.get(lot_number="MP-2026-001")
    assert lot.movements.get().created_by == manager
    assert Position.objects.get(material=material, site=site).on_hand == Decimal("250.5")
    assert_holdings_consistent()


def test_a_lot_without_quantity_is_empty(api, manager, material, site):
    response = api(manager).post(URL, _body())
    assert response.status_code == 201
    assert response.json()["on_hand"] == "0.000"
    assert not Movement.objects.exists()


@pytest.mark.parametrize("who", ["finance", "auditor", "maker_a"])
def test_only_managers_create(api, material, site, who, request):
    assert api(request.getfixturevalue(who)).post(URL, _body(initial_quantity="1")).status_code == 403
    assert not Lot.objects.exists()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"material": "NOPE"}, "material"),
        ({"site": "NOPE"}, "site"),
        ({"initial_quantity": "0"}, "initial_quantity"),
        ({"initial_quantity": "-1"}, "initial_quantity"),
        ({"initial_quantity": "1.0001"}, "initial_quantity"),
        ({"initial_quantity": "abc"}, "initial_quantity"),
        ({"initial_quantity": "1600"}, "initial_quantity"),  # beyond the depot's 1,500 kg
        ({"unit_cost": "-1"}, "unit_cost"),
        ({"unit_cost": "1.00001"}, "unit_cost"),
        ({"mining_country": "Australia"}, "mining_country"),
        ({"status": "lost"}, "status"),
        ({"lot_number": "EXISTING"}, "lot_number"),
        ({"received_date": "yesterday"}, "received_date"),
    ],
)
def test_bad_input_names_the_field_and_writes_nothing(api, manager, material, capped_site, overrides, field, unchanged):
    LotFactory(lot_number="EXISTING", material=material, site=capped_site, by=manager)
    with unchanged():
        response = api(manager).post(URL, _body(**{"site": "DEPOT-CAP", **overrides}))
    assert response.status_code == 400, response.json()
    assert field in response.json()["errors"], response.json()
    assert Lot.objects.count() == 1


def test_lots_cannot_be_edited_or_deleted_through_the_api(api, manager, lot):
    client = api(manager)
    assert client.patch(f"{URL}{lot.pk}/", {"supplier": "x"}).status_code == 405
    assert client.put(f"{URL}{lot.pk}/", _body()).status_code == 405
    assert client.delete(f"{URL}{lot.pk}/").status_code == 405
    assert Lot.objects.get(pk=lot.pk).supplier == "Lynas"


def test_status_action(api, manager, lot):
    response = api(manager).post(f"{URL}{lot.pk}/status/", {"status": "quarantine", "reason": "assay"})
    assert response.status_code == 200
    assert response.json()["status"] == "quarantine"
    assert Position.objects.get(site=lot.site).available == 0
    assert_holdings_consistent()


def test_status_action_refusals(api, manager, auditor, lot):
    assert api(auditor).post(f"{URL}{lot.pk}/status/", {"status": "damaged"}).status_code == 403
    response = api(manager).post(f"{URL}{lot.pk}/status/", {"status": "lost"})
    assert response.status_code == 400 and "status" in response.json()["errors"]
    lot_reserve(lot=lot, quantity=Decimal("1"))
    response = api(manager).post(f"{URL}{lot.pk}/status/", {"status": "damaged"})
    assert response.status_code == 409
    assert response.json()["errors"] == {"status": [response.json()["detail"]]}
    assert Lot.objects.get(pk=lot.pk).status == "available"
    assert api(manager).post(f"{URL}999999/status/", {"status": "damaged"}).status_code == 404


def test_filters(api, auditor, manager, material, site, other_site, other_material):
    LotFactory(lot_number="A", material=material, site=site, by=manager)
    LotFactory(lot_number="B", material=material, site=other_site, by=manager, status="quarantine")
    LotFactory(lot_number="C", material=other_material, site=other_site, by=manager, mining_country="CN")
    client = api(auditor)

    def numbers(**params):
        response = client.get(URL, params)
        assert response.status_code == 200
        return [row["lot_number"] for row in response.json()["results"]]

    assert numbers() == ["A", "B", "C"]
    assert numbers(material="NDPR-OX") == ["A", "B"]
    assert numbers(site="DEPOT-B") == ["B", "C"]
    assert numbers(material="NDPR-OX", site="DEPOT-B") == ["B"]
    assert numbers(status="quarantine") == ["B"]
    assert numbers(mining_country="CN") == ["C"]
    assert numbers(material="NOPE") == []
    assert numbers(ordering="-id") == ["C", "B", "A"]


def test_list_query_count_does_not_grow(api, auditor, manager):
    def queries(n):
        for _ in range(n):
            LotFactory(material=MaterialFactory(), site=SiteFactory(), initial_quantity="1", by=manager)
        with CaptureQueriesContext(connection) as ctx:
            assert api(auditor).get(URL, {"page_size": 100}).status_code == 200
        return len(ctx.captured_queries)

    small = queries(3)
    assert queries(27) == small <= 2
