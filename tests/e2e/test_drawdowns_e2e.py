"""A drawdown from the manufacturer's request to the manager's approval, across the portal and
the admin, and the wall between organizations."""

import re

import pytest

from tests.e2e.conftest import login_admin
from tests.e2e.helpers import login_portal
from tests.factories import days
from vault.drawdowns.models import DrawdownRequest, DrawdownTransition

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def world(lot, agreement_a, agreement_b, maker_a, maker_b):
    """1,000 kg of NDPR-OX in stock; ORG-A entitled to 500 kg, ORG-B to 300 kg."""


def test_request_submitted_in_the_portal_is_approved_in_the_admin(new_page, world, maker_a, manager, material):
    # The manufacturer sees what it may still draw, then asks for 120 kg.
    maker = new_page()
    login_portal(maker, maker_a.username)
    entitlement = maker.get_by_role("row", name=re.compile(r"^NDPR-OX"))
    assert entitlement.get_by_role("cell").nth(3).inner_text() == "500.000"  # remaining (kg)
    maker.get_by_role("link", name="Request a drawdown").click()
    maker.wait_for_url("**/portal/requests/new/")
    assert "NDPR-OX 500.000 kg (replenish within 90 days)" in maker.get_by_role("main").inner_text()
    maker.get_by_label("Material").select_option(str(material.pk))
    maker.get_by_label("Quantity (kg)").fill("120")
    maker.get_by_label("Needed by").fill(days(10).isoformat())
    maker.get_by_label("Priority").select_option("defense-rated")
    maker.get_by_label("Replenishment commitment date").fill(days(60).isoformat())
    maker.get_by_label("Justification").fill("Magnet line restart after the export ban")
    maker.get_by_role("button", name="Submit request").click()
    maker.wait_for_url(re.compile(r"/portal/requests/\d+/$"))
    pk = int(re.search(r"/requests/(\d+)/$", maker.url).group(1))
    number = f"DR-{pk}"
    assert maker.get_by_role("status").inner_text() == f"Request {number} submitted for review."
    maker.get_by_role("navigation", name="Main").get_by_role("link", name="My requests").click()
    row = maker.get_by_role("row", name=re.compile(rf"^{number} "))
    assert row.locator(".badge").inner_text() == "Submitted"
    assert row.get_by_role("cell").nth(1).inner_text() == "120.000"
    maker.goto("/portal/")
    assert entitlement.get_by_role("cell").nth(3).inner_text() == "380.000"

    # The manager opens the review queue from the dashboard and approves it in full.
    admin = new_page()
    login_admin(admin, manager.username)
    panel = admin.locator("#review-queue")
    assert panel.locator("#review-queue-awaiting").inner_text() == "1"
    assert panel.locator("#review-queue-prioritised").inner_text() == "1"
    panel.get_by_role("link", name="Open the review queue").click()
    admin.wait_for_url("**/admin/drawdowns/drawdownrequest/?queue=review")
    queued = admin.locator("#result_list tbody tr")
    assert queued.count() == 1
    assert "Defense-rated" in queued.first.inner_text() and "ORG-A" in queued.first.inner_text()
    queued.first.get_by_role("link", name=number, exact=True).click()
    admin.wait_for_url(
        re.compile(rf"/admin/drawdowns/drawdownrequest/{pk}/change/\?_changelist_filters=queue%3Dreview$")
    )
    admin.locator(".object-tools").get_by_role("link", name="Approve in full").click()
    admin.wait_for_url(f"**/admin/drawdowns/drawdownrequest/{pk}/decide/approve/")
    assert f"{number}: ORG-A asks for 120.000 kg of NDPR-OX" in admin.locator("#content-main").inner_text()
    admin.get_by_label("Comment").fill("Approved: defense-rated order")
    admin.get_by_role("button", name="Approve in full").click()
    admin.wait_for_url(f"**/admin/drawdowns/drawdownrequest/{pk}/change/")
    assert f"{number} approved in full (120.000 kg reserved)." in admin.locator(".messagelist").inner_text()

    # The manufacturer reloads its request: approved, with the whole history.
    maker.goto(f"/portal/requests/{pk}/")
    assert maker.locator("h1 .badge").inner_text() == "Approved"
    history = maker.get_by_role("region", name="History").locator("tbody tr")
    assert [history.nth(i).locator("td").nth(2).inner_text() for i in range(history.count())] == [
        "Draft",
        "Submitted",
        "Approved",
    ]
    approval = history.nth(2).inner_text()
    assert "manager1" in approval and "120.000" in approval and "Approved: defense-rated order" in approval
    request = DrawdownRequest.objects.get(pk=pk)
    assert request.status == DrawdownRequest.Status.APPROVED and request.approved_quantity == 120
    assert DrawdownTransition.objects.filter(request=request).count() == 3


def test_another_organization_sees_none_of_it(new_page, world, maker_a, maker_b, make_portal_request):
    request = make_portal_request(maker_a)
    page = new_page()
    login_portal(page, maker_b.username)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="My requests").click()
    page.wait_for_url("**/portal/requests/")
    main = page.get_by_role("main")
    assert "No requests yet." in main.inner_text()
    assert request.number not in page.content()
    page.goto("/portal/")
    assert request.number not in page.content()
    response = page.goto(f"/portal/requests/{request.pk}/")
    assert response.status == 404
    response = page.request.post(f"/portal/requests/{request.pk}/cancel/")
    assert response.status in (403, 404)  # no CSRF token or not found: either way nothing changes
    request.refresh_from_db()
    assert request.status == DrawdownRequest.Status.SUBMITTED


@pytest.fixture
def make_portal_request(material):
    from vault.drawdowns import services

    def make(user, quantity="75"):
        return services.drawdown_create(
            by=user, material=material, quantity=quantity, needed_by=days(10), replenish_by=days(60), submit=True
        )

    return make
