from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.financing.factories import disbursed_tranche, make_facility
from vault.ledger.models import JournalEntry
from vault.ledger.services import Line, entry_post

D = Decimal


def _post(day: date, amount: str, debit="1000", credit="4000", memo="fee"):
    return entry_post(
        date=day, memo=memo, lines=[Line(debit, debit=D(amount)), Line(credit, credit=D(amount))], source_type="fee"
    )


@pytest.mark.parametrize(
    "url", ["/api/v1/ledger/entries/", "/api/v1/ledger/accounts/", "/api/v1/ledger/trial-balance/"]
)
def test_staff_read_manufacturers_do_not(api, finance, manager, auditor, maker_a, url):
    for user in (finance, manager, auditor):
        assert api(user).get(url).status_code == 200
    assert api(maker_a).get(url).status_code == 403
    assert api(None).get(url).status_code in (401, 403)


def test_entries_have_their_lines_nested(api, auditor):
    entry = _post(date(2026, 3, 2), "10.00")
    body = api(auditor).get("/api/v1/ledger/entries/").json()["results"][0]
    assert body["number"] == entry.number
    assert body["source_reference"] == "fee"
    assert body["lines"] == [
        {"id": body["lines"][0]["id"], "account": "1000", "account_name": "Cash", "debit": "10.00", "credit": "0.00"},
        {
            "id": body["lines"][1]["id"],
            "account": "4000",
            "account_name": "Fee income",
            "debit": "0.00",
            "credit": "10.00",
        },
    ]


def test_entries_list_queries_do_not_grow(api, auditor):
    client = api(auditor)

    def queries():
        with CaptureQueriesContext(connection) as context:
            assert client.get("/api/v1/ledger/entries/").status_code == 200
        return len(context.captured_queries)

    for n in range(3):
        _post(date(2026, 3, 2 + n), "1.00")
    few = queries()
    for n in range(20):
        _post(date(2026, 4, 1 + n), "1.00")
    assert queries() == few <= 3


def test_accounts_list_queries_do_not_grow(api, auditor, finance):
    client = api(auditor)
    with CaptureQueriesContext(connection) as few:
        client.get("/api/v1/ledger/accounts/?as_of=2026-12-31")
    for n in range(5):
        make_facility(by=finance, code=f"LOAN-{n}")
    with CaptureQueriesContext(connection) as many:
        body = client.get("/api/v1/ledger/accounts/?as_of=2026-12-31&page_size=100").json()
    assert len(many.captured_queries) == len(few.captured_queries) <= 2
    assert len(body["results"]) >= 10 + 11


def test_entry_filters(api, auditor, finance):
    loan = make_facility(by=finance, code="LOAN-F")
    disbursed_tranche(facility=loan, amount="5.00", on=date(2026, 3, 2), by=finance)
    _post(date(2026, 3, 1), "1.00")
    _post(date(2026, 3, 20), "2.00")
    client = api(auditor)

    def numbers(query):
        return [e["number"] for e in client.get(f"/api/v1/ledger/entries/?{query}").json()["results"]]

    assert len(numbers("facility=LOAN-F")) == 1
    assert len(numbers("account=2100-LOAN-F")) == 1
    assert len(numbers("account=1000")) == 3
    assert len(numbers("date_from=2026-03-02&date_to=2026-03-19")) == 1
    assert len(numbers("source_type=fee")) == 2
    assert numbers("page_size=1") == [JournalEntry.objects.order_by("-date", "-id").first().number]


def test_account_balances_as_of(api, auditor):
    _post(date(2026, 3, 1), "10.00")
    _post(date(2026, 3, 10), "5.00")
    client = api(auditor)
    cash = client.get("/api/v1/ledger/accounts/1000/?as_of=2026-03-05").json()
    assert (cash["debits"], cash["credits"], cash["balance"]) == ("10.00", "0.00", "10.00")
    fees = client.get("/api/v1/ledger/accounts/4000/").json()
    assert fees["balance"] == "15.00"  # credit-normal
    assert client.get("/api/v1/ledger/accounts/?as_of=nope").status_code == 400


def test_trial_balance_totals_are_equal(api, auditor, finance):
    loan = make_facility(by=finance, code="LOAN-TB")
    disbursed_tranche(facility=loan, amount="1000000.00", on=date(2026, 3, 2), by=finance)
    from vault.financing.services import interest_accrue

    interest_accrue(facility=loan, through=date(2026, 3, 31))
    _post(date(2026, 4, 2), "7.00")

    body = api(auditor).get("/api/v1/ledger/trial-balance/?as_of=2026-03-31").json()
    assert body["balanced"] is True
    assert body["total_debit"] == body["total_credit"] == "1003541.67"
    rows = {r["code"]: r for r in body["rows"]}
    assert rows["1000"]["debit"] == "1000000.00"
    assert rows["2100-LOAN-TB"]["credit"] == "1000000.00"
    assert rows["5000"]["debit"] == rows["2000-LOAN-TB"]["credit"] == "3541.67"
    assert "4000" not in rows
    assert api(auditor).get("/api/v1/ledger/trial-balance/").json()["total_debit"] == "1003548.67"


def test_finance_reverses_an_entry_once(api, finance, manager):
    entry = _post(date(2026, 3, 2), "12.50")
    url = f"/api/v1/ledger/entries/{entry.pk}/reverse/"
    assert api(manager).post(url, {"date": "2026-03-03"}).status_code == 403
    reversal = api(finance).post(url, {"date": "2026-03-03"})
    assert reversal.status_code == 201
    assert reversal.json()["reverses"] == entry.pk
    again = api(finance).post(url, {})
    assert again.status_code == 409
    assert "entry" in again.json()["errors"]
    later = _post(date(2026, 3, 5), "1.00")
    before = api(finance).post(f"/api/v1/ledger/entries/{later.pk}/reverse/", {"date": "2026-03-04"})
    assert (before.status_code, before.json()["code"]) == (400, "reversal_before_original")


def test_entries_cannot_be_edited_or_deleted_through_the_api(api, finance):
    entry = _post(date(2026, 3, 2), "1.00")
    for method in ("put", "patch", "delete"):
        assert getattr(api(finance), method)(f"/api/v1/ledger/entries/{entry.pk}/", {}).status_code == 405
