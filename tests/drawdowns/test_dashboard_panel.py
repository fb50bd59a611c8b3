"""The review-queue panel of the admin dashboard: its figures, who sees it, and its queries."""

import re
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.drawdowns.conftest import days
from tests.factories import UserFactory
from vault.drawdowns import services
from vault.drawdowns.dashboard import review_queue_summary
from vault.drawdowns.models import DrawdownRequest

Priority = DrawdownRequest.Priority


@pytest.fixture
def queue(stocked, agreement_a, agreement_b, maker_a, maker_b, manager, material, make_request):
    """Awaiting review: 100 kg routine and 50 kg defense-rated (ORG-A), 30 kg disruption
    (ORG-B). Not in the queue: a draft, a cancelled request, and 40 kg approved (to fulfil)."""
    services.disruption_declare(
        by=manager, materials=[material], starts_on=days(-1), ends_on=days(30), reason="Export ban"
    )
    make_request(maker_a, "100")
    make_request(maker_a, "50", priority=Priority.DEFENSE_RATED)
    make_request(maker_b, "30", priority=Priority.DISRUPTION)
    make_request(maker_a, "20", submit=False)
    services.drawdown_cancel(request=make_request(maker_a, "10"), by=maker_a)
    services.drawdown_approve(request=make_request(maker_b, "40"), by=manager)


def _panel(html: str) -> str:
    match = re.search(r'<section[^>]*id="review-queue".*?</section>', html, re.S)
    assert match, "the review-queue panel is missing"
    return match.group(0)


def _figure(panel: str, name: str) -> str:
    return re.search(rf'id="review-queue-{name}">([^<]*)<', panel).group(1).strip()


def test_summary_counts_only_submitted_requests_and_their_priorities(queue):
    with CaptureQueriesContext(connection) as queries:
        summary = review_queue_summary()
    assert len(queries.captured_queries) == 1
    assert summary.awaiting_review == 3
    assert (summary.defense_rated, summary.disruption, summary.prioritised) == (1, 1, 2)
    assert summary.quantity_kg == Decimal("180.000")
    assert summary.awaiting_fulfilment == 1
    oldest = DrawdownRequest.objects.filter(status="submitted").order_by("submitted_at").first()
    assert summary.oldest_submitted_at == oldest.submitted_at


def test_manager_sees_the_figures_and_a_link_to_the_review_queue(client, manager, queue):
    client.force_login(manager)
    response = client.get("/admin/")
    assert response.status_code == 200
    panel = _panel(response.content.decode())
    assert _figure(panel, "awaiting") == "3"
    assert _figure(panel, "prioritised") == "2"
    assert _figure(panel, "oldest") == "0 d"
    assert _figure(panel, "fulfil") == "1"
    assert "180.000 kg in all: 1 defense-rated,\n    1 under a declared disruption" in panel
    assert 'href="/admin/drawdowns/drawdownrequest/?queue=review"' in panel
    assert 'href="/admin/drawdowns/drawdownrequest/?queue=fulfil"' in panel
    # The link opens the queue with exactly the requests counted.
    listed = client.get("/admin/drawdowns/drawdownrequest/?queue=review").context["cl"].result_list
    assert sorted(r.quantity for r in listed) == [Decimal("30"), Decimal("50"), Decimal("100")]


def test_empty_queue_says_so(client, manager, db):
    client.force_login(manager)
    panel = _panel(client.get("/admin/").content.decode())
    assert 'id="review-queue-empty"' in panel and "Nothing awaits review." in panel
    assert _figure(panel, "fulfil") == "0"


@pytest.mark.parametrize("role", ["manager", "auditor"])
def test_roles_that_view_requests_see_the_panel(client, role, request, queue):
    client.force_login(request.getfixturevalue(role))
    assert 'id="review-queue"' in client.get("/admin/").content.decode()


def test_staff_without_view_permission_on_requests_do_not_see_it(client, queue):
    clerk = UserFactory(username="clerk", role="", is_staff=True)
    group = Group.objects.create(name="facility readers")
    group.permissions.add(Permission.objects.get(codename="view_facility"))
    clerk.groups.add(group)
    client.force_login(clerk)
    response = client.get("/admin/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="review-queue"' not in html
    assert 'id="facility-headroom"' in html  # the panels are gated one by one


def test_admin_index_queries_stay_constant_as_the_queue_grows(
    client, manager, maker_a, maker_b, queue, make_request, material
):
    client.force_login(manager)
    client.get("/admin/")  # warm caches (content types, permissions) before counting
    with CaptureQueriesContext(connection) as small:
        client.get("/admin/")
    for n in range(12):
        make_request(maker_a if n % 2 else maker_b, "1", priority=Priority.DEFENSE_RATED if n % 3 else "routine")
    with CaptureQueriesContext(connection) as large:
        response = client.get("/admin/")
    assert _figure(_panel(response.content.decode()), "awaiting") == "15"
    assert len(large.captured_queries) == len(small.captured_queries)
