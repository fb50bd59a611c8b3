"""/api/v1/drawdown-requests/: who may do what, the error shape, and constant-query lists."""

from decimal import Decimal

import pytest

from tests.drawdowns.conftest import days
from tests.factories import InDays, dated
from vault.drawdowns import services
from vault.drawdowns.models import DrawdownRequest

URL = "/api/v1/drawdown-requests/"


def _body(**overrides):
    body = {
        "material": "NDPR-OX",
        "quantity": "100.000",
        "needed_by": str(days(10)),
        "priority": "routine",
        "justification": "Line 3 restart",
        "replenish_by": str(days(60)),
    }
    body.update(overrides)
    return body


@pytest.fixture
def setup(agreement_a, agreement_b, stocked):
    return None


def test_manufacturer_creates_a_draft_for_its_organization(api, maker_a, setup):
    response = api(maker_a).post(URL, _body(), format="json")
    assert response.status_code == 201, response.data
    data = response.json()
    assert data["status"] == "draft"
    assert data["organization"] == "ORG-A"
    assert data["material"] == "NDPR-OX"
    assert data["quantity"] == "100.000"
    assert data["approved_quantity"] is None
    assert [t["to_status"] for t in data["transitions"]] == ["draft"]
    assert DrawdownRequest.objects.get(pk=data["id"]).requested_by == maker_a


def test_create_with_submit_true(api, maker_a, setup):
    response = api(maker_a).post(URL, _body(submit=True), format="json")
    assert response.status_code == 201
    assert response.json()["status"] == "submitted"


def test_status_approved_quantity_and_organization_cannot_be_set(api, maker_a, setup):
    response = api(maker_a).post(
        URL, _body(status="approved", approved_quantity="100", organization="ORG-B", id=999), format="json"
    )
    assert response.status_code == 201
    created = DrawdownRequest.objects.get(pk=response.json()["id"])
    assert (created.status, created.approved_quantity, created.organization.code) == ("draft", None, "ORG-A")
    assert created.pk != 999


def test_requests_cannot_be_edited_or_deleted(api, maker_a, manager, setup, make_request):
    request = make_request(maker_a, "10")
    for client in (api(maker_a), api(manager)):
        # Manufacturers are refused by role (403) before the method (405) is even considered.
        assert client.patch(f"{URL}{request.pk}/", {"status": "approved"}, format="json").status_code in (403, 405)
        assert client.delete(f"{URL}{request.pk}/").status_code in (403, 405)
    assert api(manager).patch(f"{URL}{request.pk}/", {"status": "approved"}, format="json").status_code == 405
    request.refresh_from_db()
    assert request.status == "submitted"


@pytest.mark.parametrize(
    ("overrides", "field", "status", "code"),
    [
        ({"quantity": "0"}, "quantity", 400, "invalid"),
        ({"quantity": "-3"}, "quantity", 400, "invalid"),
        ({"quantity": "abc"}, "quantity", 400, "invalid"),
        ({"quantity": "600"}, "quantity", 400, "exceeds_entitlement"),
        ({"material": "UNOBTAINIUM"}, "material", 400, "invalid"),
        ({"needed_by": InDays(-1)}, "needed_by", 400, "needed_by_in_past"),
        ({"needed_by": "tomorrow"}, "needed_by", 400, "invalid"),
        ({"priority": "urgent"}, "priority", 400, "invalid"),
        ({"replenish_by": None}, "replenish_by", 400, "replenish_by_required"),
        ({"replenish_by": InDays(200)}, "replenish_by", 400, "replenish_by_outside_window"),
    ],
)
def test_bad_input_names_the_field_and_writes_nothing(
    api, maker_a, setup, overrides, field, status, code, nothing_written
):
    with nothing_written():
        response = api(maker_a).post(URL, _body(**dated(overrides)), format="json")
    assert response.status_code == status, response.data
    body = response.json()
    assert field in body["errors"], body
    assert body["code"] == code  # the serializer's "invalid", or the rule's own code


def test_material_without_entitlement_is_refused(api, maker_a, setup, other_material, nothing_written):
    with nothing_written():
        response = api(maker_a).post(URL, _body(material="GA"), format="json")
    assert response.status_code == 400
    assert "material" in response.json()["errors"]


@pytest.mark.parametrize("role", ["manager", "finance", "auditor"])
def test_staff_cannot_create(api, role, request, setup, nothing_written):
    user = request.getfixturevalue(role)
    with nothing_written():
        assert api(user).post(URL, _body(), format="json").status_code == 403


def test_anonymous_gets_nothing(api, setup):
    assert api(None).get(URL).status_code in (401, 403)
    assert api(None).post(URL, _body(), format="json").status_code in (401, 403)


def test_manufacturer_sees_only_its_own_requests(api, maker_a, maker_b, setup, make_request):
    mine = make_request(maker_a, "10")
    theirs = make_request(maker_b, "10")
    ids = [row["id"] for row in api(maker_a).get(URL).json()["results"]]
    assert ids == [mine.pk]
    assert api(maker_a).get(f"{URL}{theirs.pk}/").status_code == 404
    # Filtering by the other organization shows nothing, it does not widen the list.
    assert api(maker_a).get(URL, {"organization": "ORG-B"}).json()["results"] == []
    assert [r["id"] for r in api(maker_a).get(URL, {"status": "submitted"}).json()["results"]] == [mine.pk]


@pytest.mark.parametrize("role", ["manager", "finance", "auditor"])
def test_staff_read_every_request(api, role, request, maker_a, maker_b, setup, make_request):
    user = request.getfixturevalue(role)
    a, b = make_request(maker_a, "10"), make_request(maker_b, "10")
    ids = {row["id"] for row in api(user).get(URL).json()["results"]}
    assert ids == {a.pk, b.pk}
    detail = api(user).get(f"{URL}{a.pk}/").json()
    assert [t["to_status"] for t in detail["transitions"]] == ["draft", "submitted"]


def test_filters(api, manager, maker_a, maker_b, setup, make_request):
    a = make_request(maker_a, "10", priority="defense-rated")
    b = make_request(maker_b, "10", submit=False)
    client = api(manager)
    assert [r["id"] for r in client.get(URL, {"organization": "ORG-B"}).json()["results"]] == [b.pk]
    assert [r["id"] for r in client.get(URL, {"priority": "defense-rated"}).json()["results"]] == [a.pk]
    assert [r["id"] for r in client.get(URL, {"status": "draft"}).json()["results"]] == [b.pk]
    assert len(client.get(URL, {"material": "NDPR-OX"}).json()["results"]) == 2


def test_list_is_paginated(api, manager, maker_a, setup, make_request):
    for _ in range(3):
        make_request(maker_a, "1")
    page = api(manager).get(URL, {"page_size": 2}).json()
    assert len(page["results"]) == 2 and page["next"]
    assert len(api(manager).get(page["next"]).json()["results"]) == 1


@pytest.mark.parametrize("user_fixture", ["manager", "maker_a"])
def test_list_query_count_is_constant(
    api, request, user_fixture, maker_a, setup, make_request, django_assert_num_queries
):
    user = request.getfixturevalue(user_fixture)
    client = api(user)
    make_request(maker_a, "1")
    with django_assert_num_queries(1) as few:
        assert len(client.get(URL).json()["results"]) == 1
    for _ in range(5):
        make_request(maker_a, "1")
    with django_assert_num_queries(len(few.captured_queries)):
        assert len(client.get(URL).json()["results"]) == 6


def test_detail_query_count_does_not_grow_with_history(
    api, manager, maker_a, setup, make_request, django_assert_num_queries
):
    short = make_request(maker_a, "1", submit=False)
    long = make_request(maker_a, "1")
    services.drawdown_approve(request=long, by=manager)
    services.drawdown_fulfil(request=long, by=manager)
    client = api(manager)
    with django_assert_num_queries(2) as first:
        client.get(f"{URL}{short.pk}/")
    with django_assert_num_queries(len(first.captured_queries)):
        assert len(client.get(f"{URL}{long.pk}/").json()["transitions"]) == 4


# --- actions ---------------------------------------------------------------------------------


def test_full_workflow_through_the_api(api, maker_a, manager, setup):
    maker, boss = api(maker_a), api(manager)
    created = maker.post(URL, _body(quantity="200"), format="json").json()
    pk = created["id"]
    assert maker.post(f"{URL}{pk}/submit/", {"comment": "urgent"}, format="json").json()["status"] == "submitted"
    approved = boss.post(f"{URL}{pk}/approve/", {"quantity": "150", "comment": "part"}, format="json")
    assert approved.status_code == 200
    assert (approved.json()["status"], approved.json()["approved_quantity"]) == ("approved", "150.000")
    fulfilled = boss.post(f"{URL}{pk}/fulfil/", {}, format="json").json()
    assert fulfilled["status"] == "fulfilled"
    assert [t["to_status"] for t in fulfilled["transitions"]] == ["draft", "submitted", "approved", "fulfilled"]


def test_approve_without_quantity_approves_everything(api, maker_a, manager, setup, make_request):
    request = make_request(maker_a, "120")
    data = api(manager).post(f"{URL}{request.pk}/approve/", {}, format="json").json()
    assert data["approved_quantity"] == "120.000"


def test_reject_needs_a_comment(api, maker_a, manager, setup, make_request, nothing_written):
    request = make_request(maker_a, "10")
    with nothing_written():
        response = api(manager).post(f"{URL}{request.pk}/reject/", {}, format="json")
    assert response.status_code == 400 and "comment" in response.json()["errors"]
    response = api(manager).post(
        f"{URL}{request.pk}/reject/", {"comment": "Stock kept for rated orders"}, format="json"
    )
    assert response.json()["status"] == "rejected"


def test_wrong_state_is_409_with_the_status_field(api, maker_a, manager, setup, make_request, nothing_written):
    draft = make_request(maker_a, "10", submit=False)
    with nothing_written():
        response = api(manager).post(f"{URL}{draft.pk}/approve/", {}, format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "invalid_transition"
    assert "status" in response.json()["errors"]


def test_short_stock_approval_is_409(
    api, maker_a, maker_b, manager, agreement_a, agreement_b, make_request, material, site
):
    from tests.factories import LotFactory

    LotFactory(material=material, site=site, initial_quantity="150", by=manager)
    a, b = make_request(maker_a, "100"), make_request(maker_b, "100")
    assert api(manager).post(f"{URL}{a.pk}/approve/", {}, format="json").status_code == 200
    response = api(manager).post(f"{URL}{b.pk}/approve/", {}, format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "insufficient_stock"
    assert response.json()["errors"]["quantity"]


@pytest.mark.parametrize("action", ["approve", "reject", "fulfil"])
def test_manufacturers_cannot_decide(api, maker_a, setup, make_request, action, nothing_written):
    request = make_request(maker_a, "10")
    with nothing_written():
        response = api(maker_a).post(f"{URL}{request.pk}/{action}/", {"comment": "x"}, format="json")
    assert response.status_code == 403


@pytest.mark.parametrize("action", ["submit", "cancel"])
def test_a_manufacturer_acting_on_another_organization_gets_404(
    api, maker_a, maker_b, setup, make_request, action, nothing_written
):
    theirs = make_request(maker_b, "10", submit=False)
    with nothing_written():
        response = api(maker_a).post(f"{URL}{theirs.pk}/{action}/", {}, format="json")
    assert response.status_code == 404


@pytest.mark.parametrize("role", ["finance", "auditor"])
@pytest.mark.parametrize("action", ["submit", "approve", "reject", "fulfil", "cancel"])
def test_readers_cannot_act(api, request, role, action, maker_a, setup, make_request, nothing_written):
    target = make_request(maker_a, "10")
    with nothing_written():
        response = api(request.getfixturevalue(role)).post(
            f"{URL}{target.pk}/{action}/", {"comment": "x"}, format="json"
        )
    assert response.status_code == 403


def test_manufacturer_cancels_its_own_approved_request(api, maker_a, manager, setup, make_request, stocked):
    request = make_request(maker_a, "10")
    services.drawdown_approve(request=request, by=manager)
    response = api(maker_a).post(f"{URL}{request.pk}/cancel/", {"comment": "not needed"}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "cancelled"
    stocked.refresh_from_db()
    assert stocked.reserved == Decimal("0")
