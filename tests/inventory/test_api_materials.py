import pytest

from tests.factories import MaterialFactory
from vault.inventory.models import Material

URL = "/api/v1/materials/"


@pytest.fixture
def catalogue(db):
    return [MaterialFactory(code=code) for code in ("NDPR-OX", "DY-OX", "GA")]


def test_anonymous_is_refused(api, catalogue):
    response = api(None).get(URL)
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


@pytest.mark.parametrize("who", ["manager", "finance", "auditor", "maker_a"])
def test_every_role_reads_the_catalogue(api, catalogue, who, request):
    response = api(request.getfixturevalue(who)).get(URL)
    assert response.status_code == 200
    assert [m["code"] for m in response.json()["results"]] == ["DY-OX", "GA", "NDPR-OX"]
    detail = api(request.getfixturevalue(who)).get(f"{URL}GA/").json()
    assert set(detail) == {"code", "name", "form", "grade", "unit", "coverage_target_days", "price_floor"}


@pytest.mark.parametrize("who", ["finance", "auditor", "maker_a"])
def test_only_managers_write(api, who, request):
    response = api(request.getfixturevalue(who)).post(URL, {"code": "CO", "name": "Cobalt", "form": "metal"})
    assert response.status_code == 403
    assert not Material.objects.filter(code="CO").exists()


def test_manager_creates_and_edits(api, manager):
    client = api(manager)
    response = client.post(
        URL, {"code": "CO", "name": "Cobalt", "form": "metal", "grade": "99.8%", "price_floor": "33.5"}
    )
    assert response.status_code == 201, response.json()
    assert response.json() == {
        "code": "CO",
        "name": "Cobalt",
        "form": "metal",
        "grade": "99.8%",
        "unit": "kg",
        "coverage_target_days": 60,
        "price_floor": "33.5000",
    }
    response = client.patch(f"{URL}CO/", {"coverage_target_days": 90})
    assert response.status_code == 200
    assert Material.objects.get(code="CO").coverage_target_days == 90
    assert Material.objects.get(code="CO").history.first().history_user == manager


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"code": "co", "name": "Cobalt", "form": "metal"}, "code"),
        ({"code": "CO", "name": "Cobalt", "form": "liquid"}, "form"),
        ({"code": "CO", "form": "metal"}, "name"),
        ({"code": "CO", "name": "Cobalt", "form": "metal", "coverage_target_days": 0}, "coverage_target_days"),
        ({"code": "CO", "name": "Cobalt", "form": "metal", "price_floor": "-1"}, "price_floor"),
        ({"code": "NDPR-OX", "name": "dup", "form": "oxide"}, "code"),
    ],
)
def test_bad_input_names_the_field(api, manager, catalogue, body, field):
    response = api(manager).post(URL, body)
    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert Material.objects.count() == 3


def test_materials_are_never_deleted_or_replaced(api, manager, catalogue):
    client = api(manager)
    assert client.delete(f"{URL}GA/").status_code == 405
    assert client.put(f"{URL}GA/", {"code": "GA", "name": "x", "form": "metal"}).status_code == 405
    assert Material.objects.filter(code="GA").exists()


def test_search_and_page_size(api, manager, catalogue):
    client = api(manager)
    assert [m["code"] for m in client.get(URL, {"page_size": 2}).json()["results"]] == ["DY-OX", "GA"]
    assert client.get(URL, {"page_size": 2}).json()["next"].endswith("page=2&page_size=2")
