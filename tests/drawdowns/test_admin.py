"""Admin for managers: the review queue, decisions, entitlements, disruptions, obligations."""

from decimal import Decimal

import pytest
from django.test import Client

from tests.drawdowns.conftest import days
from vault.accounts.services import roles_sync
from vault.drawdowns import services
from vault.drawdowns.models import DisruptionEvent, DrawdownRequest, ParticipationAgreement, Reservation

QUEUE = "/admin/drawdowns/drawdownrequest/"


@pytest.fixture
def staff(manager, auditor):
    roles_sync()  # give the role groups their admin permissions
    return


@pytest.fixture
def boss(staff, manager):
    client = Client()
    client.force_login(manager)
    return client


@pytest.fixture
def reader(staff, auditor):
    client = Client()
    client.force_login(auditor)
    return client


@pytest.fixture
def world(agreement_a, agreement_b, stocked):
    return None


def _decide(pk, verb):
    return f"{QUEUE}{pk}/decide/{verb}/"


def test_queue_puts_defense_rated_first_then_oldest(boss, maker_a, maker_b, world, make_request):
    old_routine = make_request(maker_a, "1")
    disruption_free_defense = make_request(maker_b, "1", priority="defense-rated")
    newer_routine = make_request(maker_a, "1")
    later_defense = make_request(maker_a, "1", priority="defense-rated")
    draft = make_request(maker_b, "1", submit=False)
    response = boss.get(QUEUE)
    assert response.status_code == 200
    order = [row.pk for row in response.context["cl"].result_list]
    assert order[:4] == [disruption_free_defense.pk, later_defense.pk, old_routine.pk, newer_routine.pk]
    assert order[-1] == draft.pk  # not awaiting a decision
    html = response.content.decode()
    assert "Approve in part…" in html and "Reject…" in html


def test_queue_filter_to_review(boss, maker_a, world, make_request):
    submitted = make_request(maker_a, "1")
    make_request(maker_a, "1", submit=False)
    response = boss.get(QUEUE, {"queue": "review"})
    assert [r.pk for r in response.context["cl"].result_list] == [submitted.pk]


def test_change_page_shows_history_and_decisions(boss, maker_a, world, make_request):
    request = make_request(maker_a, "10")
    html = boss.get(f"{QUEUE}{request.pk}/change/").content.decode()
    assert "state history" in html.lower()
    assert "Approve in full" in html and _decide(request.pk, "approve-part") in html
    assert "Fulfil" not in html.split("object-tools")[1].split("</ul>")[0]


def test_approve_in_full(boss, maker_a, manager, world, make_request):
    request = make_request(maker_a, "10")
    assert boss.get(_decide(request.pk, "approve")).status_code == 200
    response = boss.post(_decide(request.pk, "approve"), {"comment": "ok"})
    assert response.status_code == 302
    request.refresh_from_db()
    assert (request.status, request.approved_quantity) == ("approved", Decimal("10"))
    assert request.transitions.last().by == manager


def test_partial_approval_form(boss, maker_a, world, make_request):
    request = make_request(maker_a, "10")
    form = boss.get(_decide(request.pk, "approve-part"))
    assert 'name="quantity"' in form.content.decode()
    boss.post(_decide(request.pk, "approve-part"), {"quantity": "4.5", "comment": "part"})
    request.refresh_from_db()
    assert (request.status, request.approved_quantity) == ("approved", Decimal("4.5"))


def test_partial_approval_above_request_shows_field_error(boss, maker_a, world, make_request, nothing_written):
    request = make_request(maker_a, "10")
    with nothing_written():
        response = boss.post(_decide(request.pk, "approve-part"), {"quantity": "11"})
    assert response.status_code == 400
    assert "quantity" in response.context["form"].errors


def test_reject_needs_a_reason(boss, maker_a, world, make_request):
    request = make_request(maker_a, "10")
    assert boss.post(_decide(request.pk, "reject"), {"comment": ""}).status_code == 400
    boss.post(_decide(request.pk, "reject"), {"comment": "Not now"})
    request.refresh_from_db()
    assert request.status == "rejected"


def test_fulfil_and_wrong_state(boss, maker_a, manager, world, make_request, nothing_written):
    request = make_request(maker_a, "10")
    with nothing_written():
        response = boss.post(_decide(request.pk, "fulfil"), {})
    assert response.status_code == 400
    assert "cannot be fulfilled" in response.content.decode()
    services.drawdown_approve(request=request, by=manager)
    boss.post(_decide(request.pk, "fulfil"), {})
    request.refresh_from_db()
    assert request.status == "fulfilled"


def test_unknown_decision_is_404(boss, maker_a, world, make_request):
    request = make_request(maker_a, "10")
    assert boss.get(_decide(request.pk, "bless")).status_code == 404


def test_bulk_actions(boss, maker_a, maker_b, world, make_request):
    a, b = make_request(maker_a, "10"), make_request(maker_b, "10")
    draft = make_request(maker_a, "10", submit=False)
    response = boss.post(QUEUE, {"action": "approve_in_full", "_selected_action": [a.pk, b.pk, draft.pk]}, follow=True)
    html = response.content.decode()
    assert f"Approved in full: {a.number}, {b.number}" in html
    assert f"{draft.number}: Drawdown {draft.number} is draft" in html
    assert set(DrawdownRequest.objects.filter(pk__in=[a.pk, b.pk]).values_list("status", flat=True)) == {"approved"}
    boss.post(QUEUE, {"action": "fulfil", "_selected_action": [a.pk]})
    boss.post(QUEUE, {"action": "cancel", "_selected_action": [b.pk]})
    statuses = dict(DrawdownRequest.objects.values_list("pk", "status"))
    assert (statuses[a.pk], statuses[b.pk], statuses[draft.pk]) == ("fulfilled", "cancelled", "draft")
    assert Reservation.objects.filter(request=b, state="released").exists()


def test_auditor_reads_but_cannot_decide(reader, maker_a, world, make_request, nothing_written):
    request = make_request(maker_a, "10")
    assert reader.get(QUEUE).status_code == 200
    html = reader.get(f"{QUEUE}{request.pk}/change/").content.decode()
    assert "Approve in full" not in html
    with nothing_written():
        assert reader.post(_decide(request.pk, "approve"), {}).status_code == 403
        reader.post(QUEUE, {"action": "approve_in_full", "_selected_action": [request.pk]})


def test_manufacturers_have_no_admin(maker_a, client):
    client.force_login(maker_a)
    assert client.get(QUEUE).status_code == 302  # to the admin login


def test_entitlement_add_goes_through_the_service(boss, org_a, material, manager):
    response = boss.post(
        "/admin/drawdowns/participationagreement/add/",
        {
            "organization": org_a.pk,
            "material": material.pk,
            "quantity": "100",
            "locked_price": "80",
            "upfront_fee": "0",
            "replenishment_days": "30",
            "premium_pct": "2",
        },
    )
    assert response.status_code == 302
    agreement = ParticipationAgreement.objects.get()
    assert agreement.created_by == manager
    duplicate = boss.post(
        "/admin/drawdowns/participationagreement/add/",
        {
            "organization": org_a.pk,
            "material": material.pk,
            "quantity": "100",
            "locked_price": "80",
            "upfront_fee": "0",
            "replenishment_days": "30",
            "premium_pct": "2",
        },
    )
    assert duplicate.status_code == 400 and "material" in duplicate.context["form"].errors
    listing = boss.get("/admin/drawdowns/participationagreement/").content.decode()
    assert "100.000" in listing


@pytest.mark.parametrize("role", ["manager", "finance"])
def test_record_fee_action(request, role, agreement_a):
    client = Client()
    client.force_login(request.getfixturevalue(role))
    client.post(
        "/admin/drawdowns/participationagreement/",
        {"action": "record_fee", "_selected_action": [agreement_a.pk]},
    )
    agreement_a.refresh_from_db()
    assert agreement_a.fee_received_at is not None


def test_auditor_cannot_record_a_fee(auditor, agreement_a):
    client = Client()
    client.force_login(auditor)
    page = client.get("/admin/drawdowns/participationagreement/").content.decode()
    assert "record_fee" not in page
    client.post(
        "/admin/drawdowns/participationagreement/",
        {"action": "record_fee", "_selected_action": [agreement_a.pk]},
    )
    agreement_a.refresh_from_db()
    assert agreement_a.fee_received_at is None


def test_declare_a_disruption(boss, material):
    response = boss.post(
        "/admin/drawdowns/disruptionevent/add/",
        {"materials": [material.pk], "starts_on": str(days(0)), "ends_on": str(days(10)), "reason": "Strike"},
    )
    assert response.status_code == 302
    assert list(DisruptionEvent.objects.get().materials.all()) == [material]
    bad = boss.post(
        "/admin/drawdowns/disruptionevent/add/",
        {"materials": [material.pk], "starts_on": str(days(5)), "ends_on": str(days(1)), "reason": "x"},
    )
    assert bad.status_code == 400 and "ends_on" in bad.context["form"].errors
    assert "Strike" in boss.get("/admin/drawdowns/disruptionevent/").content.decode()


def test_obligations_and_replenish(boss, maker_a, manager, world, make_request, site):
    request = make_request(maker_a, "10")
    services.drawdown_approve(request=request, by=manager)
    obligation = services.drawdown_fulfil(request=request, by=manager)
    listing = boss.get("/admin/drawdowns/replenishmentobligation/").content.decode()
    assert "Record replenishment…" in listing
    url = f"/admin/drawdowns/replenishmentobligation/{obligation.pk}/replenish/"
    assert boss.get(url).status_code == 200
    response = boss.post(url, {"quantity": "10.5", "site": site.pk, "mining_country": "US", "processing_country": "US"})
    assert response.status_code == 302
    request.refresh_from_db()
    assert request.status == "replenished"
    assert boss.get(f"/admin/drawdowns/replenishmentobligation/{obligation.pk}/change/").status_code == 200


def test_queue_query_count_is_constant(
    boss, maker_a, world, make_request, django_assert_num_queries, django_assert_max_num_queries
):
    make_request(maker_a, "1")
    boss.get(QUEUE)
    with django_assert_max_num_queries(20) as one:
        boss.get(QUEUE)
    for _ in range(5):
        make_request(maker_a, "1")
    with django_assert_num_queries(len(one.captured_queries)):
        boss.get(QUEUE)


def test_other_roles_see_the_admin_pages(staff, finance, maker_a, world, make_request):
    make_request(maker_a, "1")
    client = Client()
    client.force_login(finance)
    for url in (
        QUEUE,
        "/admin/drawdowns/participationagreement/",
        "/admin/drawdowns/replenishmentobligation/",
        "/admin/drawdowns/disruptionevent/",
    ):
        assert client.get(url).status_code == 200, url


def test_invalid_input_is_a_400_with_the_error_shown_and_nothing_written(
    boss, maker_a, manager, world, make_request, site
):
    """A field the form refuses and a quantity the service refuses: both are the form again,
    400, the error shown on the field, no row written."""
    from tests.admin_pages import field_errors, nothing_written

    request = make_request(maker_a, "10")
    services.drawdown_approve(request=request, by=manager)
    obligation = services.drawdown_fulfil(request=request, by=manager)
    url = f"/admin/drawdowns/replenishmentobligation/{obligation.pk}/replenish/"
    body = {"quantity": "10", "site": site.pk, "mining_country": "US", "processing_country": "US"}
    with nothing_written():
        parsed = boss.post(url, {**body, "mining_country": "usa"})
        refused = boss.post(url, {**body, "quantity": "1000"})
    assert parsed.status_code == refused.status_code == 400
    assert "Enter a valid value." in field_errors(parsed, "mining_country")
    assert field_errors(refused, "quantity") == f"Only {obligation.outstanding} kg is still due on this obligation."
