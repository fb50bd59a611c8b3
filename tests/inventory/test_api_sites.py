from decimal import Decimal

import pytest

from tests.factories import SiteFactory
from vault.inventory.models import Site

URL = "/api/v1/sites/"


def test_anonymous_is_refused(api, site):
    assert api(None).get(URL).status_code == 401


@pytest.mark.parametrize("who", ["manager", "finance", "auditor", "maker_a"])
def test_every_role_reads_sites(api, site, who, request):
    response = api(request.getfixturevalue(who)).get(URL)
    assert response.status_code == 200
    assert response.json()["results"] == [
        {"code": "DEPOT-A", "name": "Depot DEPOT-A", "country": "US", "custodian": "DLA", "capacity_kg": None}
    ]


@pytest.mark.parametrize("who", ["finance", "auditor", "maker_a"])
def test_only_managers_write(api, who, request):
    response = api(request.getfixturevalue(who)).post(URL, {"code": "NEW", "name": "New", "country": "US"})
    assert response.status_code == 403
    assert not Site.objects.exists()


def test_manager_creates_and_edits(api, manager):
    client = api(manager)
    response = client.post(URL, {"code": "ROTT-FTZ", "name": "Rotterdam", "country": "NL", "capacity_kg": "1500000"})
    assert response.status_code == 201
    assert response.json()["capacity_kg"] == "1500000.000"
    assert client.patch(f"{URL}ROTT-FTZ/", {"custodian": "Mercuria"}).status_code == 200
    assert Site.objects.get(code="ROTT-FTZ").custodian == "Mercuria"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"code": "X", "name": "X", "country": "USA"}, "country"),
        ({"code": "X", "name": "X", "country": "us"}, "country"),
        ({"code": "x y", "name": "X", "country": "US"}, "code"),
        ({"code": "X", "name": "X", "country": "US", "capacity_kg": "-1"}, "capacity_kg"),
        ({"code": "X", "name": "X", "country": "US", "capacity_kg": "1.0001"}, "capacity_kg"),
    ],
)
def test_bad_input_names_the_field(api, manager, body, field):
    response = api(manager).post(URL, body)
    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert not Site.objects.exists()


def test_capacity_cannot_drop_below_what_the_site_holds(api, manager, lot):
    response = api(manager).patch(f"{URL}{lot.site.code}/", {"capacity_kg": "999.999"})
    assert response.status_code == 400
    assert "capacity_kg" in response.json()["errors"]
    assert Site.objects.get(pk=lot.site.pk).capacity_kg is None
    assert api(manager).patch(f"{URL}{lot.site.code}/", {"capacity_kg": "1000"}).status_code == 200


def test_sites_are_never_deleted(api, manager, site):
    assert api(manager).delete(f"{URL}{site.code}/").status_code == 405
    assert Site.objects.count() == 1


def test_list_is_paginated(api, manager):
    for n in range(3):
        SiteFactory(code=f"S{n}", capacity_kg=Decimal("1"))
    body = api(manager).get(URL, {"page_size": 1, "page": 2}).json()
    assert [s["code"] for s in body["results"]] == ["S1"]
    assert body["previous"] and body["next"]
