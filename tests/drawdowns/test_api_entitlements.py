"""/api/v1/entitlements/, /api/v1/obligations/ and /api/v1/disruptions/."""

from decimal import Decimal

import pytest

from tests.drawdowns.conftest import days
from tests.factories import InDays, MaterialFactory, OrganizationFactory, dated
from vault.accounts.models import Organization
from vault.drawdowns import services
from vault.drawdowns.models import DisruptionEvent, ParticipationAgreement
from vault.ledger.models import JournalEntry
from vault.ledger.selectors import account_balance

ENTITLEMENTS = "/api/v1/entitlements/"
OBLIGATIONS = "/api/v1/obligations/"
DISRUPTIONS = "/api/v1/disruptions/"


def _entitlement(**overrides):
    body = {
        "organization": "ORG-A",
        "material": "NDPR-OX",
        "quantity": "1000",
        "locked_price": "82.5",
        "replenishment_days": 120,
        "premium_pct": "3.5",
        "upfront_fee": "25000",
    }
    body.update(overrides)
    return body


# --- entitlements ----------------------------------------------------------------------------


def test_manager_creates_an_entitlement(api, manager, org_a, material):
    response = api(manager).post(ENTITLEMENTS, _entitlement(), format="json")
    assert response.status_code == 201, response.data
    data = response.json()
    assert (data["organization"], data["material"], data["quantity"], data["locked_price"]) == (
        "ORG-A",
        "NDPR-OX",
        "1000.000",
        "82.5000",
    )
    assert (data["remaining"], data["pending"], data["outstanding"]) == ("1000.000", "0.000", "0.000")
    assert ParticipationAgreement.objects.get(pk=data["id"]).created_by == manager


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"quantity": "0"}, "quantity"),
        ({"quantity": "-1"}, "quantity"),
        ({"locked_price": "-1"}, "locked_price"),
        ({"replenishment_days": 0}, "replenishment_days"),
        ({"premium_pct": "-0.5"}, "premium_pct"),
        ({"material": "NOPE"}, "material"),
        ({"organization": "NOPE"}, "organization"),
    ],
)
def test_bad_entitlements_are_refused(api, manager, org_a, material, overrides, field, nothing_written):
    with nothing_written():
        response = api(manager).post(ENTITLEMENTS, _entitlement(**overrides), format="json")
    assert response.status_code == 400
    assert field in response.json()["errors"]


def test_a_second_active_entitlement_is_a_conflict(api, manager, agreement_a, nothing_written):
    with nothing_written():
        response = api(manager).post(ENTITLEMENTS, _entitlement(), format="json")
    assert response.status_code == 409
    assert "material" in response.json()["errors"]


def test_only_manufacturers_hold_entitlements(api, manager, material, nothing_written):
    OrganizationFactory(code="HARTREE", kind=Organization.Kind.TRADING_HOUSE)
    with nothing_written():
        response = api(manager).post(ENTITLEMENTS, _entitlement(organization="HARTREE"), format="json")
    assert response.status_code == 400 and "organization" in response.json()["errors"]


@pytest.mark.parametrize("role", ["maker_a", "finance", "auditor"])
def test_only_managers_create_entitlements(api, request, role, org_a, material, nothing_written):
    with nothing_written():
        assert api(request.getfixturevalue(role)).post(ENTITLEMENTS, _entitlement(), format="json").status_code == 403


def test_manufacturer_sees_only_its_entitlements_with_remaining(
    api, maker_a, maker_b, agreement_a, agreement_b, stocked, make_request
):
    make_request(maker_a, "120")
    rows = api(maker_a).get(ENTITLEMENTS).json()["results"]
    assert [(r["organization"], r["remaining"], r["pending"]) for r in rows] == [("ORG-A", "380.000", "120.000")]
    assert api(maker_a).get(f"{ENTITLEMENTS}{agreement_b.pk}/").status_code == 404
    assert api(maker_a).get(ENTITLEMENTS, {"organization": "ORG-B"}).json()["results"] == []


def test_entitlement_list_query_count_is_constant(api, manager, material, django_assert_num_queries):
    def add(n):
        org = OrganizationFactory(code=f"MAKER-{n}")
        services.agreement_create(
            by=manager,
            organization=org,
            material=material,
            quantity=Decimal("10"),
            locked_price=Decimal("1"),
            replenishment_days=10,
        )

    add(0)
    client = api(manager)
    with django_assert_num_queries(1) as one:
        assert len(client.get(ENTITLEMENTS).json()["results"]) == 1
    for n in range(1, 6):
        add(n)
    with django_assert_num_queries(len(one.captured_queries)):
        assert len(client.get(ENTITLEMENTS).json()["results"]) == 6


def test_fee_is_posted_once(api, manager, finance, agreement_a):
    response = api(finance).post(f"{ENTITLEMENTS}{agreement_a.pk}/fee/", {}, format="json")
    assert response.status_code == 200, response.data
    assert response.json()["fee_received_at"]
    assert account_balance(code="1000") == Decimal("1000.00")
    assert account_balance(code="4000") == Decimal("1000.00")
    entry = JournalEntry.objects.get(source_type="fee", source_id=agreement_a.pk)
    assert entry.posted_by == finance
    assert (entry.fee_receipt.organization, entry.fee_receipt.amount) == (agreement_a.organization, Decimal("1000.00"))
    again = api(manager).post(f"{ENTITLEMENTS}{agreement_a.pk}/fee/", {}, format="json")
    assert again.status_code == 409
    assert JournalEntry.objects.filter(source_type="fee").count() == 1


def test_fee_needs_a_fee(api, manager, agreement_b, nothing_written):
    with nothing_written():
        response = api(manager).post(f"{ENTITLEMENTS}{agreement_b.pk}/fee/", {}, format="json")
    assert response.status_code == 400 and "upfront_fee" in response.json()["errors"]


def test_manufacturer_cannot_record_a_fee(api, maker_a, agreement_a, nothing_written):
    with nothing_written():
        assert api(maker_a).post(f"{ENTITLEMENTS}{agreement_a.pk}/fee/", {}, format="json").status_code == 403


# --- obligations -----------------------------------------------------------------------------


@pytest.fixture
def two_obligations(maker_a, maker_b, manager, agreement_a, agreement_b, stocked, make_request):
    result = []
    for maker in (maker_a, maker_b):
        request = make_request(maker, "50")
        services.drawdown_approve(request=request, by=manager)
        result.append(services.drawdown_fulfil(request=request, by=manager))
    return result


def test_obligations_are_listed_per_organization(api, maker_a, manager, two_obligations):
    mine, theirs = two_obligations
    rows = api(maker_a).get(OBLIGATIONS).json()["results"]
    assert [(r["id"], r["quantity_due"], r["outstanding"], r["organization"]) for r in rows] == [
        (mine.pk, "52.500", "52.500", "ORG-A")
    ]
    assert api(maker_a).get(f"{OBLIGATIONS}{theirs.pk}/").status_code == 404
    assert len(api(manager).get(OBLIGATIONS).json()["results"]) == 2
    assert len(api(manager).get(OBLIGATIONS, {"organization": "ORG-B"}).json()["results"]) == 1


def test_obligation_list_query_count_is_constant(
    api, manager, maker_a, agreement_a, stocked, make_request, django_assert_num_queries
):
    def fulfilled():
        request = make_request(maker_a, "5")
        services.drawdown_approve(request=request, by=manager)
        services.drawdown_fulfil(request=request, by=manager)

    fulfilled()
    client = api(manager)
    with django_assert_num_queries(1) as one:
        assert len(client.get(OBLIGATIONS).json()["results"]) == 1
    for _ in range(4):
        fulfilled()
    with django_assert_num_queries(len(one.captured_queries)):
        assert len(client.get(OBLIGATIONS).json()["results"]) == 5


def test_manager_records_a_replenishment(api, manager, two_obligations, site):
    obligation = two_obligations[0]
    body = {"quantity": "52.5", "site": site.code, "mining_country": "US", "processing_country": "US"}
    response = api(manager).post(f"{OBLIGATIONS}{obligation.pk}/replenish/", body, format="json")
    assert response.status_code == 201, response.data
    assert response.json()["lot_number"] == f"RPL-{obligation.request_id}-1"
    obligation.refresh_from_db()
    assert obligation.status == "replenished"
    assert obligation.request.status == "replenished"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"quantity": "0"}, "quantity"),
        ({"quantity": "52.501"}, "quantity"),
        ({"site": "NOWHERE"}, "site"),
        ({"mining_country": "usa"}, "mining_country"),
    ],
)
def test_bad_replenishments_are_refused(api, manager, two_obligations, site, overrides, field, nothing_written):
    body = {"quantity": "10", "site": site.code, "mining_country": "US", "processing_country": "US", **overrides}
    with nothing_written():
        response = api(manager).post(f"{OBLIGATIONS}{two_obligations[0].pk}/replenish/", body, format="json")
    assert response.status_code == 400
    assert field in response.json()["errors"]


def test_manufacturers_cannot_record_replenishments(api, maker_a, two_obligations, site, nothing_written):
    body = {"quantity": "10", "site": site.code, "mining_country": "US", "processing_country": "US"}
    with nothing_written():
        response = api(maker_a).post(f"{OBLIGATIONS}{two_obligations[0].pk}/replenish/", body, format="json")
    assert response.status_code == 403


# --- disruptions -----------------------------------------------------------------------------


def test_manager_declares_a_disruption(api, manager, material, other_material):
    body = {
        "materials": ["NDPR-OX", "GA"],
        "starts_on": str(days(0)),
        "ends_on": str(days(30)),
        "reason": "Export licences suspended",
    }
    response = api(manager).post(DISRUPTIONS, body, format="json")
    assert response.status_code == 201, response.data
    assert sorted(response.json()["materials"]) == ["GA", "NDPR-OX"]
    event = DisruptionEvent.objects.get(pk=response.json()["id"])
    assert event.declared_by == manager


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"materials": []}, "materials"),
        ({"materials": ["NOPE"]}, "materials"),
        ({"ends_on": InDays(-1)}, "ends_on"),
        ({"reason": ""}, "reason"),
    ],
)
def test_bad_disruptions_are_refused(api, manager, material, overrides, field):
    body = {
        "materials": ["NDPR-OX"],
        "starts_on": str(days(0)),
        "ends_on": str(days(5)),
        "reason": "x",
        **dated(overrides),
    }
    response = api(manager).post(DISRUPTIONS, body, format="json")
    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert DisruptionEvent.objects.count() == 0


def test_manufacturers_read_but_do_not_declare_disruptions(api, maker_a, manager, material):
    services.disruption_declare(by=manager, materials=[material], starts_on=days(-1), ends_on=days(1), reason="x")
    assert len(api(maker_a).get(DISRUPTIONS).json()["results"]) == 1
    body = {"materials": ["NDPR-OX"], "starts_on": str(days(0)), "ends_on": str(days(5)), "reason": "x"}
    assert api(maker_a).post(DISRUPTIONS, body, format="json").status_code == 403


def test_disruption_filters(api, manager, material, other_material):
    services.disruption_declare(by=manager, materials=[material], starts_on=days(-1), ends_on=days(1), reason="now")
    services.disruption_declare(
        by=manager, materials=[other_material], starts_on=days(-9), ends_on=days(-2), reason="past"
    )
    client = api(manager)
    assert [r["reason"] for r in client.get(DISRUPTIONS, {"active": "true"}).json()["results"]] == ["now"]
    assert [r["reason"] for r in client.get(DISRUPTIONS, {"active": "false"}).json()["results"]] == ["past"]
    assert [r["reason"] for r in client.get(DISRUPTIONS, {"material": "GA"}).json()["results"]] == ["past"]


def test_disruption_list_query_count_is_constant(api, manager, django_assert_num_queries):
    def declare(n):
        materials = [MaterialFactory(code=f"M-{n}-{k}") for k in range(2)]
        services.disruption_declare(by=manager, materials=materials, starts_on=days(0), ends_on=days(3), reason="x")

    declare(0)
    client = api(manager)
    with django_assert_num_queries(2) as one:
        assert len(client.get(DISRUPTIONS).json()["results"]) == 1
    for n in range(1, 5):
        declare(n)
    with django_assert_num_queries(len(one.captured_queries)):
        assert len(client.get(DISRUPTIONS).json()["results"]) == 5
