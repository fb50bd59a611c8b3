from datetime import date, time
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.clock import travel_to
from tests.factories import LotFactory, SiteFactory
from tests.inventory.invariants import assert_holdings_consistent
from vault.inventory.models import Lot, Movement
from vault.inventory.services import lot_reserve, movement_release, movement_transfer

URL = "/api/v1/movements/"


def test_anonymous_is_refused(api, lot):
    assert api(None).get(URL).status_code == 401
    assert api(None).post(URL, {"kind": "release", "lot": lot.pk, "quantity": "1"}).status_code == 401
    assert Movement.objects.count() == 1


@pytest.mark.parametrize(("who", "status"), [("manager", 200), ("finance", 200), ("auditor", 200), ("maker_a", 403)])
def test_who_reads_movements(api, lot, who, status, request):
    client = api(request.getfixturevalue(who))
    assert client.get(URL).status_code == status
    assert client.get(f"{URL}{lot.movements.get().pk}/").status_code == status


@pytest.mark.parametrize("who", ["finance", "auditor", "maker_a"])
def test_only_managers_record_movements(api, lot, who, request):
    response = api(request.getfixturevalue(who)).post(URL, {"kind": "release", "lot": lot.pk, "quantity": "1"})
    assert response.status_code == 403
    assert Movement.objects.count() == 1


def test_movement_shape(api, auditor, lot, manager):
    receipt = lot.movements.get()
    body = api(auditor).get(f"{URL}{receipt.pk}/").json()
    assert body == {
        "id": receipt.pk,
        "kind": "receipt",
        "lot": lot.pk,
        "lot_number": lot.lot_number,
        "material": "NDPR-OX",
        "site": "DEPOT-A",
        "quantity": "1000.000",
        "balance_after": "1000.000",
        "value": "50000.00",
        "reason": "Initial receipt",
        "reference": "",
        "counterpart": None,
        "reverses": None,
        "business_date": lot.received_date.isoformat(),
        "created_at": body["created_at"],
        "created_by": manager.username,
    }


@pytest.mark.parametrize(
    ("body", "quantity", "balance"),
    [
        ({"kind": "receipt", "quantity": "10.5"}, "10.500", "1010.500"),
        ({"kind": "adjustment", "quantity": "-2.25", "reason": "count"}, "-2.250", "997.750"),
        ({"kind": "adjustment", "quantity": "3", "reason": "assay"}, "3.000", "1003.000"),
        ({"kind": "write_off", "quantity": "4", "reason": "spill"}, "-4.000", "996.000"),
        ({"kind": "release", "quantity": "100", "reference": "DD-9"}, "-100.000", "900.000"),
    ],
)
def test_manager_records_each_kind(api, manager, lot, body, quantity, balance):
    response = api(manager).post(URL, {"lot": lot.pk, **body})
    assert response.status_code == 201, response.json()
    data = response.json()
    assert (data["kind"], data["quantity"], data["balance_after"], data["created_by"]) == (
        body["kind"],
        quantity,
        balance,
        manager.username,
    )
    assert Lot.objects.get(pk=lot.pk).on_hand == Decimal(balance)
    assert_holdings_consistent()


def test_manager_records_a_transfer(api, manager, lot, other_site):
    response = api(manager).post(URL, {"kind": "transfer", "lot": lot.pk, "quantity": "40", "to_site": "DEPOT-B"})
    assert response.status_code == 201, response.json()
    out_leg = response.json()
    assert (out_leg["quantity"], out_leg["site"]) == ("-40.000", "DEPOT-A")
    in_leg = api(manager).get(f"{URL}{out_leg['counterpart']}/").json()
    assert (in_leg["quantity"], in_leg["site"], in_leg["lot_number"]) == (
        "40.000",
        "DEPOT-B",
        f"{lot.lot_number}@DEPOT-B",
    )
    assert_holdings_consistent()


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        ({"kind": "receipt", "quantity": "0"}, "quantity", "quantity_not_positive"),
        ({"kind": "receipt", "quantity": "-5"}, "quantity", "quantity_not_positive"),
        ({"kind": "release", "quantity": "-5"}, "quantity", "quantity_not_positive"),
        ({"kind": "write_off", "quantity": "0", "reason": "x"}, "quantity", "quantity_not_positive"),
        ({"kind": "receipt", "quantity": "1.0001"}, "quantity", "invalid"),
        ({"kind": "receipt", "quantity": "1e20"}, "quantity", "invalid"),
        ({"kind": "receipt", "quantity": "ten"}, "quantity", "invalid"),
        ({"kind": "receipt"}, "quantity", "invalid"),
        ({"kind": "receipt", "quantity": "600"}, "quantity", "exceeds_site_capacity"),  # beyond the depot's capacity
        ({"kind": "receipt", "quantity": "1", "lot": 999999}, "lot", "invalid"),
        ({"kind": "receipt", "quantity": "1", "lot": "abc"}, "lot", "invalid"),
        ({"kind": "transfer", "quantity": "1"}, "to_site", "to_site_required"),
        ({"kind": "transfer", "quantity": "1", "to_site": "NOWHERE"}, "to_site", "invalid"),
        ({"kind": "transfer", "quantity": "1", "to_site": "DEPOT-CAP"}, "to_site", "transfer_same_site"),
        ({"kind": "receipt", "quantity": "1", "to_site": "DEPOT-B"}, "to_site", "to_site_not_allowed"),
        ({"kind": "adjustment", "quantity": "1"}, "reason", "reason_required"),
        ({"kind": "write_off", "quantity": "1", "reason": "  "}, "reason", "reason_required"),
        ({"kind": "reversal", "quantity": "1"}, "kind", "invalid"),
        ({"kind": "theft", "quantity": "1"}, "kind", "invalid"),
        ({"quantity": "1"}, "kind", "invalid"),
    ],
)
def test_bad_input_is_400_with_the_field_and_writes_nothing(
    api, manager, make_lot, capped_site, other_site, body, field, code, unchanged
):
    lot = make_lot("1000", site=capped_site)
    with unchanged():
        response = api(manager).post(URL, {"lot": lot.pk, **body})
    assert response.status_code == 400, response.json()
    data = response.json()
    assert data["code"] == code  # the serializer's "invalid", or the rule's own code
    assert field in data["errors"], data
    assert data["errors"][field] and all(isinstance(message, str) for message in data["errors"][field])


@pytest.mark.parametrize(
    "body",
    [
        {"kind": "release", "quantity": "1000.001"},
        {"kind": "write_off", "quantity": "2000", "reason": "x"},
        {"kind": "adjustment", "quantity": "-1000.001", "reason": "x"},
        {"kind": "transfer", "quantity": "1001", "to_site": "DEPOT-B"},
    ],
)
def test_insufficient_stock_is_409(api, manager, lot, other_site, body, unchanged):
    with unchanged():
        response = api(manager).post(URL, {"lot": lot.pk, **body})
    assert response.status_code == 409
    assert response.json()["code"] == "insufficient_stock"
    assert response.json()["lot"] == lot.lot_number
    assert "quantity" in response.json()["errors"]


def test_release_from_a_quarantined_lot_is_409(api, manager, lot, unchanged):
    api(manager).post(f"/api/v1/lots/{lot.pk}/status/", {"status": "quarantine"})
    with unchanged():
        response = api(manager).post(URL, {"kind": "release", "lot": lot.pk, "quantity": "1"})
    assert response.status_code == 409
    assert "lot" in response.json()["errors"]


def test_reserved_stock_is_not_released_through_the_api(api, manager, lot):
    lot_reserve(lot=lot, quantity=Decimal("950"))
    assert api(manager).post(URL, {"kind": "release", "lot": lot.pk, "quantity": "51"}).status_code == 409
    assert api(manager).post(URL, {"kind": "release", "lot": lot.pk, "quantity": "50"}).status_code == 201


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_posted_movements_cannot_be_edited_or_deleted(api, manager, lot, method, unchanged):
    receipt = lot.movements.get()
    with unchanged():
        response = getattr(api(manager), method)(f"{URL}{receipt.pk}/", {"quantity": "1", "kind": "receipt"})
    assert response.status_code == 400
    assert response.json()["code"] == "movement_immutable"
    assert "non_field_errors" in response.json()["errors"]
    receipt.refresh_from_db()
    assert receipt.quantity == Decimal("1000")


def test_reverse(api, manager, auditor, lot):
    release = movement_release(lot=lot, quantity=Decimal("100"), by=manager)
    url = f"{URL}{release.pk}/reverse/"
    assert api(auditor).post(url, {"reason": "x"}).status_code == 403
    response = api(manager).post(url, {})
    assert response.status_code == 400 and "reason" in response.json()["errors"]
    response = api(manager).post(url, {"reason": "Wrong lot"})
    assert response.status_code == 201
    assert (response.json()["kind"], response.json()["reverses"], response.json()["quantity"]) == (
        "reversal",
        release.pk,
        "100.000",
    )
    again = api(manager).post(url, {"reason": "again"})
    assert again.status_code == 409 and again.json()["code"] == "already_reversed"
    reversal_url = f"{URL}{response.json()['id']}/reverse/"
    undo = api(manager).post(reversal_url, {"reason": "undo"})
    assert undo.status_code == 409 and undo.json()["code"] == "reversal_not_reversible"
    assert api(manager).post(f"{URL}999999/reverse/", {"reason": "x"}).status_code == 404
    assert Lot.objects.get(pk=lot.pk).on_hand == Decimal("1000")
    assert_holdings_consistent()


@pytest.fixture
def history(manager, material, other_material, site, other_site):
    """Movements on three days: two lots at DEPOT-A, one of another material at DEPOT-B."""
    with travel_to(date(2026, 3, 1), time(12)):
        a = LotFactory(lot_number="A", material=material, site=site, initial_quantity="100", by=manager)
        b = LotFactory(lot_number="B", material=other_material, site=other_site, initial_quantity="100", by=manager)
    with travel_to(date(2026, 3, 2), time(12)):
        movement_release(lot=a, quantity=Decimal("1"), by=manager)
        movement_transfer(lot=b, quantity=Decimal("5"), to_site=site, by=manager)
    with travel_to(date(2026, 3, 3), time(12)):
        movement_release(lot=b, quantity=Decimal("2"), by=manager)
    return a, b


def test_filters(api, auditor, history):
    a, b = history
    client = api(auditor)

    def rows(**params):
        response = client.get(URL, params)
        assert response.status_code == 200, response.json()
        return [(m["kind"], m["lot_number"], m["quantity"]) for m in response.json()["results"]]

    assert len(rows()) == 6
    assert rows(material="NDPR-OX") == [("release", "A", "-1.000"), ("receipt", "A", "100.000")]
    assert rows(site="DEPOT-B", kind="release") == [("release", "B", "-2.000")]
    assert rows(material="DY-OX", site="DEPOT-A") == [("transfer", "B@DEPOT-A", "5.000")]
    assert rows(lot=a.pk) == [("release", "A", "-1.000"), ("receipt", "A", "100.000")]
    assert rows(kind="transfer") == [("transfer", "B", "-5.000"), ("transfer", "B@DEPOT-A", "5.000")]
    assert [r[0] for r in rows(date_from="2026-03-02")] == ["release", "transfer", "transfer", "release"]
    assert [r[0] for r in rows(date_to="2026-03-01")] == ["receipt", "receipt"]
    assert [r[0] for r in rows(date_from="2026-03-02", date_to="2026-03-02")] == ["transfer", "transfer", "release"]
    assert rows(date_from="2026-03-04") == []
    assert rows(page_size=2) == rows()[:2]


@pytest.mark.parametrize(
    ("params", "field"),
    [({"kind": "theft"}, "kind"), ({"date_from": "March"}, "date_from"), ({"lot": "x"}, "lot")],
)
def test_bad_filters_are_400(api, auditor, lot, params, field):
    response = api(auditor).get(URL, params)
    assert response.status_code == 400
    assert field in response.json()["errors"]


def test_list_query_count_does_not_grow(api, auditor, manager, material):
    def queries(n):
        for _ in range(n):
            LotFactory(material=material, site=SiteFactory(), initial_quantity="1", by=manager)
        with CaptureQueriesContext(connection) as ctx:
            response = api(auditor).get(URL, {"page_size": 100, "material": material.code})
        assert response.status_code == 200
        return len(ctx.captured_queries), len(response.json()["results"])

    small, rows = queries(3)
    assert rows == 3
    assert queries(27) == (small, 30)
    assert small <= 2


def test_page_size_is_capped_and_validated(api, auditor, lot):
    client = api(auditor)
    assert client.get(URL, {"page_size": 5000}).status_code == 200
    response = client.get(URL, {"page_size": 0})
    assert response.status_code == 400 and "page_size" in response.json()["errors"]
    assert client.get(URL, {"page": 2}).status_code == 404
