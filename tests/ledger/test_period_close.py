"""Period close: finance closes the books through a date, nothing posts on or before it, a
reversal of a closed period's entry lands on the first open day, and moving the lock date back
takes two finance users and leaves a record."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from tests.factories import UserFactory
from vault.core.errors import Conflict, InvalidInput
from vault.ledger import selectors, services
from vault.ledger.models import JournalEntry, PeriodClose, ReopenRequest
from vault.ledger.services import Line

pytestmark = pytest.mark.django_db
MARCH_END = date(2026, 3, 31)


@pytest.fixture
def finance2(db):
    return UserFactory(username="finance2", role="finance")


def _post(day: date, amount: str = "5.00") -> JournalEntry:
    services.chart_ensure()
    return services.entry_post(
        date=day,
        memo="bank charge",
        lines=[Line("5000", debit=Decimal(amount)), Line("1000", credit=Decimal(amount))],
        source_type="bank",
    )


def test_nothing_posts_on_or_before_the_close(finance):
    services.period_close(through=MARCH_END, by=finance)
    with pytest.raises(Conflict) as refused:
        _post(MARCH_END)
    assert (refused.value.code, refused.value.field, refused.value.status_code) == ("period_closed", "date", 409)
    with pytest.raises(Conflict):
        _post(date(2019, 6, 1))
    assert not JournalEntry.objects.exists()
    assert _post(MARCH_END + timedelta(days=1)).date == date(2026, 4, 1)
    assert selectors.closed_through() == MARCH_END


def test_a_close_moves_forward_only_through_days_that_have_ended(finance, manager):
    today = timezone.localdate()
    with pytest.raises(InvalidInput) as future:
        services.period_close(through=today, by=finance)
    assert (future.value.code, future.value.field) == ("close_not_past", "through")
    services.period_close(through=MARCH_END, by=finance)
    for again in (MARCH_END, date(2026, 2, 28)):
        with pytest.raises(Conflict) as backwards:
            services.period_close(through=again, by=finance)
        assert backwards.value.code == "period_already_closed"
    with pytest.raises(Conflict) as not_finance:
        services.period_close(through=date(2026, 4, 30), by=manager)
    assert not_finance.value.code == "role_required"
    assert list(PeriodClose.objects.values_list("kind", "through", "requested_by__username")) == [
        ("close", MARCH_END, "finance1")
    ]


def test_a_reversal_of_a_closed_period_posts_on_the_first_open_day_and_never_before_its_original(finance):
    original = _post(date(2026, 3, 10))
    early = _post(date(2026, 3, 12))
    with pytest.raises(InvalidInput) as before:
        services.entry_reverse(entry=early, date=date(2026, 3, 11))
    assert (before.value.code, before.value.field) == ("reversal_before_original", "date")
    services.period_close(through=MARCH_END, by=finance)
    reversal = services.entry_reverse(entry=original, date=date(2026, 3, 15), by=finance)
    assert (reversal.date, reversal.reverses_id) == (date(2026, 4, 1), original.pk)
    later = services.entry_reverse(entry=early, date=date(2026, 4, 20), by=finance)
    assert later.date == date(2026, 4, 20)


def test_reopening_takes_a_second_finance_user_and_leaves_a_record(finance, finance2):
    services.period_close(through=MARCH_END, by=finance)
    with pytest.raises(InvalidInput) as no_reason:
        services.period_reopen_request(through=date(2026, 2, 28), reason=" ", by=finance)
    assert no_reason.value.code == "reason_required"
    with pytest.raises(InvalidInput) as not_earlier:
        services.period_reopen_request(through=MARCH_END, reason="late invoice", by=finance)
    assert not_earlier.value.code == "reopen_not_earlier"
    request = services.period_reopen_request(through=date(2026, 2, 28), reason="late invoice", by=finance)
    with pytest.raises(Conflict) as pending:
        services.period_reopen_request(through=None, reason="another", by=finance2)
    assert pending.value.code == "reopen_pending"

    with pytest.raises(Conflict) as same:
        services.period_reopen_approve(request=request, by=finance)
    assert same.value.code == "second_user_required"
    assert selectors.closed_through() == MARCH_END

    event = services.period_reopen_approve(request=request, by=finance2)
    assert (event.kind, event.through, event.requested_by, event.approved_by) == (
        "reopen",
        date(2026, 2, 28),
        finance,
        finance2,
    )
    assert selectors.closed_through() == date(2026, 2, 28)
    assert _post(date(2026, 3, 20)).date == date(2026, 3, 20)
    request.refresh_from_db()
    assert (request.state, request.decided_by) == ("approved", finance2)
    with pytest.raises(Conflict) as decided:
        services.period_reopen_approve(request=request, by=finance2)
    assert decided.value.code == "request_decided"


def test_a_rejected_reopening_leaves_the_books_closed(finance, finance2):
    services.period_close(through=MARCH_END, by=finance)
    request = services.period_reopen_request(through=None, reason="audit adjustment", by=finance)
    services.period_reopen_reject(request=request, by=finance2)
    assert ReopenRequest.objects.get().state == "rejected"
    assert selectors.closed_through() == MARCH_END
    assert services.period_reopen_request(through=None, reason="asked again", by=finance2).state == "pending"


def test_the_api_closes_and_reopens_with_two_users(api, finance, finance2, manager, auditor):
    body = {"through": "2026-03-31"}
    assert api(manager).post("/api/v1/ledger/periods/close/", body).status_code == 403
    closed = api(finance).post("/api/v1/ledger/periods/close/", body)
    assert closed.status_code == 201, closed.json()
    assert (closed.json()["kind"], closed.json()["through"], closed.json()["requested_by"]) == (
        "close",
        "2026-03-31",
        "finance1",
    )
    again = api(finance).post("/api/v1/ledger/periods/close/", body)
    assert (again.status_code, again.json()["code"]) == (409, "period_already_closed")
    bad = api(finance).post("/api/v1/ledger/periods/close/", {"through": "soon"})
    assert bad.status_code == 400 and "through" in bad.json()["errors"]

    proposal = api(finance).post(
        "/api/v1/ledger/manual-entries/",
        {
            "date": "2026-03-15",
            "memo": "late",
            "lines": [{"account": "5000", "debit": "1"}, {"account": "1000", "credit": "1"}],
        },
        format="json",
    )
    assert (proposal.status_code, proposal.json()["code"], proposal.json()["closed_through"]) == (
        409,
        "period_closed",
        "2026-03-31",
    )

    asked = api(finance).post("/api/v1/ledger/reopen-requests/", {"through": "2026-02-28", "reason": "late invoice"})
    assert asked.status_code == 201, asked.json()
    url = f"/api/v1/ledger/reopen-requests/{asked.json()['id']}/approve/"
    same = api(finance).post(url)
    assert (same.status_code, same.json()["code"]) == (409, "second_user_required")
    approved = api(finance2).post(url)
    assert approved.status_code == 201, approved.json()
    assert (approved.json()["requested_by"], approved.json()["approved_by"]) == ("finance1", "finance2")
    history = api(auditor).get("/api/v1/ledger/periods/").json()["results"]
    assert [(e["kind"], e["through"]) for e in history] == [("reopen", "2026-02-28"), ("close", "2026-03-31")]


def test_the_admin_closes_the_books_and_answers_400_to_a_refusal(client, finance):
    from vault.accounts.services import roles_sync

    roles_sync()
    client.force_login(finance)
    page = client.get("/admin/ledger/periodclose/add/")
    assert page.status_code == 200
    refused = client.post("/admin/ledger/periodclose/add/", {"through": timezone.localdate().isoformat()})
    assert refused.status_code == 400
    assert "through" in refused.context["form"].errors
    assert not PeriodClose.objects.exists()
    done = client.post("/admin/ledger/periodclose/add/", {"through": "2026-03-31"})
    assert done.status_code == 302
    assert selectors.closed_through() == MARCH_END
    assert client.get("/admin/ledger/periodclose/").status_code == 200
