"""Manual journal entries under four eyes: one finance user proposes, another posts; no manual
line on a control account, whatever the path."""

from datetime import date
from decimal import Decimal

import pytest

from tests.factories import UserFactory
from vault.core.errors import Conflict
from vault.ledger import services
from vault.ledger.models import Account, JournalEntry, JournalLine, ManualEntry
from vault.ledger.services import Line

pytestmark = pytest.mark.django_db
CHARGE_DATE = date(2026, 3, 2)
CHARGE = {
    "date": "2026-03-02",
    "memo": "Bank charge",
    "lines": [{"account": "5000", "debit": "12.50"}, {"account": "1000", "credit": "12.50"}],
}


@pytest.fixture(autouse=True)
def _chart(db):
    services.chart_ensure()


@pytest.fixture
def finance2(db):
    return UserFactory(username="finance2", role="finance")


def test_a_proposal_posts_nothing_until_a_second_finance_user_posts_it(api, finance, finance2, manager):
    assert api(manager).post("/api/v1/ledger/manual-entries/", CHARGE, format="json").status_code == 403
    proposed = api(finance).post("/api/v1/ledger/manual-entries/", CHARGE, format="json")
    assert proposed.status_code == 201, proposed.json()
    assert (proposed.json()["state"], proposed.json()["proposed_by"], proposed.json()["entry"]) == (
        "proposed",
        "finance1",
        None,
    )
    assert not JournalEntry.objects.exists()
    url = f"/api/v1/ledger/manual-entries/{proposed.json()['id']}/post/"

    same = api(finance).post(url)
    assert (same.status_code, same.json()["code"]) == (409, "second_user_required")
    assert not JournalEntry.objects.exists()

    posted = api(finance2).post(url)
    assert posted.status_code == 201, posted.json()
    entry = posted.json()
    assert (entry["source_type"], entry["posted_by"], len(entry["lines"])) == ("manual", "finance2", 2)
    proposal = ManualEntry.objects.get()
    assert (proposal.state, proposal.decided_by, proposal.entry_id) == ("posted", finance2, entry["id"])
    again = api(finance2).post(url)
    assert (again.status_code, again.json()["code"]) == (409, "request_decided")

    reversal = api(finance).post(f"/api/v1/ledger/entries/{entry['id']}/reverse/", {"date": "2026-03-03"})
    assert reversal.status_code == 201 and reversal.json()["reverses"] == entry["id"]


def test_entries_are_no_longer_posted_directly(api, finance):
    assert api(finance).post("/api/v1/ledger/entries/", CHARGE, format="json").status_code == 405
    assert not JournalEntry.objects.exists()


@pytest.mark.parametrize("code", ["1200", "1300", "2000"])
def test_a_manual_entry_cannot_touch_a_control_account(api, finance, code):
    body = {**CHARGE, "lines": [{"account": code, "debit": "5000000"}, {"account": "1000", "credit": "5000000"}]}
    refused = api(finance).post("/api/v1/ledger/manual-entries/", body, format="json")
    assert refused.status_code == 400
    assert (refused.json()["code"], refused.json()["account"]) == ("control_account", code)
    assert "account" in refused.json()["errors"]
    assert not ManualEntry.objects.exists() and not JournalEntry.objects.exists()


def test_facility_accounts_opened_later_are_control_accounts_too():
    for code, kind in (("2100-LOAN-X", "liability"), ("2000-LOAN-X", "liability"), ("3100-EQ-X", "equity")):
        assert services.account_open(code=code, name=code, type=kind).is_control
    assert not services.account_open(code="6100", name="Bank charges", type="expense").is_control
    assert set(
        Account.objects.filter(is_control=True, code__in=["1200", "1300", "2000"]).values_list("code", flat=True)
    ) == {
        "1200",
        "1300",
        "2000",
    }


def test_a_proposal_is_checked_again_when_posted(finance, finance2):
    proposal = services.manual_entry_propose(
        date=CHARGE_DATE,
        memo="x",
        lines=[Line("5000", debit=Decimal("1")), Line("1000", credit=Decimal("1"))],
        by=finance,
    )
    services.period_close(through=CHARGE_DATE, by=finance2)
    with pytest.raises(Conflict) as closed:
        services.manual_entry_post(proposal=proposal, by=finance2)
    assert closed.value.code == "period_closed"
    assert ManualEntry.objects.get().state == "proposed"
    services.manual_entry_reject(proposal=proposal, by=finance, note="withdrawn")
    assert ManualEntry.objects.get().state == "rejected"
    assert not JournalLine.objects.exists()


@pytest.mark.parametrize(
    "lines",
    [
        [{"account": "5000", "debit": "12.50"}, {"account": "1000", "credit": "12.49"}],
        [{"account": "5000", "debit": "12.505"}, {"account": "1000", "credit": "12.505"}],
        [{"account": "5000", "debit": "-1"}, {"account": "1000", "credit": "-1"}],
        [{"account": "9999", "debit": "1"}, {"account": "1000", "credit": "1"}],
        [{"account": "1000", "debit": "1"}],
    ],
)
def test_bad_proposals_are_400_and_write_nothing(api, finance, lines):
    response = api(finance).post("/api/v1/ledger/manual-entries/", {**CHARGE, "lines": lines}, format="json")
    assert response.status_code == 400
    assert "lines" in response.json()["errors"]
    assert not ManualEntry.objects.exists()


def test_the_admin_proposes_and_a_second_user_posts(client, finance, finance2):
    from vault.accounts.services import roles_sync

    roles_sync()
    client.force_login(finance)
    refused = client.post(
        "/admin/ledger/manualentry/add/", {"date": "2026-03-02", "memo": "x", "lines": "1300, 5, 0\n1000, 0, 5"}
    )
    assert refused.status_code == 400
    assert not ManualEntry.objects.exists()
    done = client.post(
        "/admin/ledger/manualentry/add/", {"date": "2026-03-02", "memo": "charge", "lines": "5000, 5, 0\n1000, 0, 5"}
    )
    assert done.status_code == 302
    proposal = ManualEntry.objects.get()
    action = {"action": "post_entries", "_selected_action": [proposal.pk]}
    client.post("/admin/ledger/manualentry/", action)
    assert ManualEntry.objects.get().state == "proposed"  # the proposer cannot post it
    client.force_login(finance2)
    client.post("/admin/ledger/manualentry/", action)
    assert ManualEntry.objects.get().state == "posted"
    assert JournalEntry.objects.get().posted_by == finance2
