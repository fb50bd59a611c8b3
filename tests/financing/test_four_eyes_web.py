"""Four eyes on tranches through the API and the admin: two real finance users."""

from datetime import date
from decimal import Decimal

from django.test import Client

from tests.financing.factories import approved_tranche, make_facility
from tests.financing.helpers import row_counts
from vault.financing import services
from vault.financing.models import Facility, Tranche

ON = date(2026, 3, 2)
LARGE = "250000000.00"


def _admin(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _action(client: Client, action: str, *tranches: Tranche):
    return client.post(
        "/admin/financing/tranche/", {"action": action, "_selected_action": [t.pk for t in tranches]}, follow=True
    )


# --- API -----------------------------------------------------------------------------------------


def test_api_refuses_approval_beyond_the_headroom_with_the_headroom(api, finance, checker):
    make_facility(by=finance, code="LOAN-SMALL", commitment=Decimal("362900000.00"))
    ids = [
        api(finance)
        .post(
            "/api/v1/tranches/",
            {"facility": "LOAN-SMALL", "amount": "350000000.00", "expected_date": "2026-03-02"},
            format="json",
        )
        .json()["id"]
        for _ in range(2)
    ]
    assert api(checker).post(f"/api/v1/tranches/{ids[0]}/approve/").status_code == 200
    before = row_counts()
    response = api(checker).post(f"/api/v1/tranches/{ids[1]}/approve/")
    assert response.status_code == 409
    body = response.json()
    assert (body["code"], body["headroom"]) == ("commitment_reserved", "12900000.00")
    assert "amount" in body["errors"]
    assert row_counts() == before
    facility = api(finance).get("/api/v1/facilities/LOAN-SMALL/").json()
    assert (facility["approved"], facility["headroom"], facility["undrawn"]) == (
        "350000000.00",
        "12900000.00",
        "362900000.00",
    )


def test_api_disburse_below_the_threshold_is_200_at_once(api, finance, loan):
    tranche = approved_tranche(facility=loan, amount="1000.00", by=finance)
    response = api(finance).post(f"/api/v1/tranches/{tranche.pk}/disburse/", {"date": "2026-03-02"}, format="json")
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["disbursed_by"]) == ("disbursed", "finance1")


def test_api_confirm_without_a_request_is_409(api, finance, checker, loan):
    tranche = approved_tranche(facility=loan, amount=LARGE, by=finance)
    response = api(checker).post(f"/api/v1/tranches/{tranche.pk}/disburse/confirm/")
    assert (response.status_code, response.json()["code"]) == (409, "no_disbursement_request")


def test_api_tranche_list_shows_who_did_what(api, finance, checker, loan):
    tranche = approved_tranche(facility=loan, amount=LARGE, by=finance)
    services.tranche_disburse(tranche=tranche, by=finance, date=ON)
    (row,) = api(finance).get("/api/v1/tranches/").json()["results"]
    assert (row["created_by"], row["approved_by"], row["disbursement_requested_by"], row["disbursed_by"]) == (
        "finance1",
        checker.username,
        "finance1",
        None,
    )
    assert row["disbursement_pending"] is True and row["approved_at"] and row["disbursement_requested_at"]


# --- admin ---------------------------------------------------------------------------------------


def test_admin_large_disbursement_is_asked_then_confirmed_by_another_user(finance, checker, loan):
    tranche = approved_tranche(facility=loan, amount=LARGE, by=finance)
    page = _admin(finance).get(f"/admin/financing/tranche/{tranche.pk}/disburse/")
    assert "another finance user confirms it" in page.content.decode()

    response = _admin(finance).post(
        f"/admin/financing/tranche/{tranche.pk}/disburse/", {"date": "2026-03-02"}, follow=True
    )
    assert any("must confirm it" in str(m) for m in response.context["messages"])
    tranche.refresh_from_db()
    assert (tranche.status, tranche.disbursement_requested_by) == ("approved", finance)

    mine = _action(_admin(finance), "disburse_confirm", tranche)
    assert any("needs a second user" in str(m) for m in mine.context["messages"])
    assert Tranche.objects.get(pk=tranche.pk).status == "approved"

    done = _action(_admin(checker), "disburse_confirm", tranche)
    assert any("Disbursed 1 tranche" in str(m) for m in done.context["messages"])
    tranche.refresh_from_db()
    assert (tranche.status, tranche.disbursed_by, tranche.actual_date) == ("disbursed", checker, ON)
    assert Facility.objects.get(pk=loan.pk).approved == 0


def test_admin_list_shows_the_four_eyes_columns(finance, checker, manager, loan):
    tranche = approved_tranche(facility=loan, amount=LARGE, by=finance)
    services.tranche_disburse(tranche=tranche, by=finance, date=ON)
    html = _admin(manager).get("/admin/financing/tranche/").content.decode()
    for header in ("Created by", "Approved by", "Approved at", "Disbursement requested by", "Disbursed by"):
        assert header in html
    assert checker.username in html and "Awaiting confirmation" in html
    facility_page = _admin(manager).get("/admin/financing/facility/").content.decode()
    assert "Approved" in facility_page


def test_admin_confirm_action_is_for_finance_only(manager, finance, loan):
    tranche = approved_tranche(facility=loan, amount=LARGE, by=finance)
    services.tranche_disburse(tranche=tranche, by=finance, date=ON)
    response = _action(_admin(manager), "disburse_confirm", tranche)
    assert Tranche.objects.get(pk=tranche.pk).status == "approved"
    assert response.status_code in (200, 403)
