"""The manufacturers' portal, with Django's test client and a session login."""

import re
from decimal import Decimal

import pytest
from django.test import Client

from tests.drawdowns.conftest import days
from tests.factories import InDays, dated
from vault.drawdowns import services
from vault.drawdowns.models import DrawdownRequest, DrawdownTransition


@pytest.fixture
def portal(maker_a):
    client = Client()
    client.force_login(maker_a)
    return client


@pytest.fixture
def world(agreement_a, agreement_b, stocked):
    return None


def test_login_page_and_session_login(maker_a, client):
    page = client.get("/portal/login/")
    assert page.status_code == 200
    html = page.content.decode()
    assert '<label for="id_username">' in html and '<label for="id_password">' in html
    response = client.post("/portal/login/", {"username": "maker_a", "password": "pass-w0rd!"})
    assert response.status_code == 302 and response["Location"] == "/portal/"
    assert client.get("/portal/").status_code == 200


def test_staff_cannot_sign_in_to_the_portal(manager, client):
    response = client.post("/portal/login/", {"username": "manager1", "password": "pass-w0rd!"})
    assert response.status_code == 200
    assert "for participant manufacturers" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_anonymous_is_sent_to_the_login(client):
    for url in ("/portal/", "/portal/requests/", "/portal/requests/new/", "/portal/requests/1/"):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/portal/login/?next=")


def test_staff_logged_in_elsewhere_get_403(manager, client):
    client.force_login(manager)
    assert client.get("/portal/").status_code == 403


def test_logout(portal):
    assert portal.post("/portal/logout/").status_code == 302
    assert portal.get("/portal/").status_code == 302


def test_dashboard_shows_entitlements_with_remaining_and_obligations(portal, maker_a, manager, world, make_request):
    request = make_request(maker_a, "100")
    services.drawdown_approve(request=request, by=manager)
    services.drawdown_fulfil(request=request, by=manager)
    make_request(maker_a, "40")
    html = portal.get("/portal/").content.decode()
    assert "NDPR-OX" in html
    assert "<strong>360.000</strong>" in html  # 500 - 100 drawn - 40 pending
    assert "105.000" in html  # obligation due: 100 + 5%
    assert request.number in html
    assert "ORG-B" not in html


def test_dashboard_mentions_an_active_disruption(portal, manager, material, world):
    services.disruption_declare(
        by=manager, materials=[material], starts_on=days(-1), ends_on=days(9), reason="Port strike."
    )
    assert "Port strike." in portal.get("/portal/").content.decode()


def test_form_has_a_label_for_every_input(portal, world, material):
    html = portal.get("/portal/requests/new/").content.decode()
    for name in ("material", "quantity", "needed_by", "priority", "replenish_by", "justification"):
        assert f'<label for="id_{name}">' in html
        assert f'id="id_{name}"' in html
    select = re.search(r'<select name="material"[^>]*>(.*?)</select>', html, re.S).group(1)
    offered = re.findall(r"<option[^>]*>([^<]*)</option>", select)
    assert offered == ["Choose a material", str(material)]  # only entitled materials, never ORG-B's GA


def test_create_and_submit_from_the_form(portal, maker_a, world, material):
    response = portal.post(
        "/portal/requests/new/",
        {
            "material": material.pk,
            "quantity": "75",
            "needed_by": str(days(7)),
            "priority": "routine",
            "replenish_by": str(days(40)),
            "justification": "Motor line",
            "action": "submit",
        },
    )
    created = DrawdownRequest.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/portal/requests/{created.pk}/"
    assert (created.status, created.quantity, created.organization_id) == (
        "submitted",
        Decimal("75"),
        maker_a.organization_id,
    )


def test_save_as_draft(portal, world, material):
    portal.post(
        "/portal/requests/new/",
        {
            "material": material.pk,
            "quantity": "5",
            "needed_by": str(days(7)),
            "priority": "routine",
            "replenish_by": str(days(40)),
            "action": "draft",
        },
    )
    assert DrawdownRequest.objects.get().status == "draft"


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"quantity": "0"}, "quantity", "greater than or equal to 0.001"),
        ({"quantity": "9999"}, "quantity", "remaining entitlement"),
        ({"needed_by": InDays(-2)}, "needed_by", "in the past"),
        ({"replenish_by": ""}, "replenish_by", "replenishment commitment date"),
        ({"material": "99999"}, "material", "Select a valid choice"),
    ],
)
def test_form_errors_are_shown_on_the_field(portal, world, material, overrides, field, message, nothing_written):
    data = {
        "material": material.pk,
        "quantity": "5",
        "needed_by": str(days(7)),
        "priority": "routine",
        "replenish_by": str(days(40)),
        "action": "submit",
        **dated(overrides),
    }
    with nothing_written():
        response = portal.post("/portal/requests/new/", data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert f'id="id_{field}_error"' in response.content.decode()
    assert field in response.context["form"].errors


def test_list_shows_own_requests_with_status_badges(portal, maker_a, maker_b, world, make_request):
    mine = make_request(maker_a, "10")
    theirs = make_request(maker_b, "10")
    html = portal.get("/portal/requests/").content.decode()
    assert mine.number in html
    assert f">{theirs.number}<" not in html
    assert '<span class="badge badge-submitted">Submitted</span>' in html
    filtered = portal.get("/portal/requests/", {"status": "draft"}).content.decode()
    assert mine.number not in filtered


def test_list_query_count_is_constant(portal, maker_a, world, make_request, django_assert_num_queries):
    make_request(maker_a, "1")
    portal.get("/portal/requests/")  # warm the session
    with django_assert_num_queries(5) as one:
        portal.get("/portal/requests/")
    for _ in range(5):
        make_request(maker_a, "1")
    with django_assert_num_queries(len(one.captured_queries)):
        portal.get("/portal/requests/")


def test_detail_shows_the_history(portal, maker_a, manager, world, make_request):
    request = make_request(maker_a, "20")
    services.drawdown_reject(request=request, by=manager, comment="Rated orders first")
    html = portal.get(f"/portal/requests/{request.pk}/").content.decode()
    assert "Rated orders first" in html
    assert "Rejected" in html and "manager1" in html
    assert "Cancel this request" not in html  # rejected is final


def test_another_organizations_request_is_404(portal, maker_b, world, make_request):
    theirs = make_request(maker_b, "10")
    assert portal.get(f"/portal/requests/{theirs.pk}/").status_code == 404
    assert portal.post(f"/portal/requests/{theirs.pk}/cancel/").status_code == 404
    assert portal.post(f"/portal/requests/{theirs.pk}/submit/").status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == "submitted"


def test_cancel_button(portal, maker_a, world, make_request):
    request = make_request(maker_a, "10")
    assert "Cancel this request" in portal.get(f"/portal/requests/{request.pk}/").content.decode()
    response = portal.post(f"/portal/requests/{request.pk}/cancel/", {"comment": "plans changed"})
    assert response.status_code == 302
    request.refresh_from_db()
    assert request.status == "cancelled"
    assert DrawdownTransition.objects.filter(request=request, to_status="cancelled", comment="plans changed").exists()
    # Cancelling again shows the refusal as a message and changes nothing.
    again = portal.post(f"/portal/requests/{request.pk}/cancel/", follow=True)
    assert "cannot be cancelled" in again.content.decode()
    assert DrawdownTransition.objects.filter(request=request, to_status="cancelled").count() == 1


def test_cancel_needs_post(portal, maker_a, world, make_request):
    request = make_request(maker_a, "10")
    assert portal.get(f"/portal/requests/{request.pk}/cancel/").status_code == 405


def test_submit_a_draft_from_the_detail_page(portal, maker_a, world, make_request):
    draft = make_request(maker_a, "10", submit=False)
    assert "Submit for review" in portal.get(f"/portal/requests/{draft.pk}/").content.decode()
    portal.post(f"/portal/requests/{draft.pk}/submit/")
    draft.refresh_from_db()
    assert draft.status == "submitted"


def test_stylesheet_is_served_locally(portal, world):
    html = portal.get("/portal/").content.decode()
    assert 'href="/static/portal/portal.css"' in html
    assert "http://" not in html.split("<body")[0] and "https://" not in html.split("<body")[0]


def test_stylesheet_file_exists():
    from django.contrib.staticfiles import finders

    assert finders.find("portal/portal.css")


def test_quantities_and_prices_are_grouped_by_thousands(portal, maker_a, manager, org_a, other_material, stocked):
    services.agreement_create(
        by=manager,
        organization=org_a,
        material=other_material,
        quantity=Decimal("12500"),
        locked_price=Decimal("1620.5"),
        replenishment_days=90,
    )
    html = portal.get("/portal/").content.decode()
    assert "<strong>12,500.000</strong>" in html
    assert "1,620.5000" in html
