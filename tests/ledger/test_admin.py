import csv
import io
from datetime import date
from decimal import Decimal

import pytest
from django.test import Client
from openpyxl import load_workbook

from tests.financing.factories import disbursed_tranche, make_facility
from vault.financing import services
from vault.ledger.services import Line, entry_post


@pytest.fixture
def admin_client_for():
    def make(user) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return make


@pytest.fixture
def ledger(finance):
    loan = make_facility(by=finance, code="LOAN-ADM")
    disbursed_tranche(facility=loan, amount="1000.00", on=date(2026, 3, 2), by=finance)
    services.interest_accrue(facility=loan, through=date(2026, 3, 6))
    entry_post(
        date=date(2026, 3, 7),
        memo="Wire fee",
        lines=[Line("5000", debit=Decimal("3.00")), Line("1000", credit=Decimal("3.00"))],
        source_type="manual",
    )
    return loan


def _csv(response) -> list[dict]:
    return list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_journal_changelist_shows_download_buttons_keeping_the_filters(admin_client_for, auditor, ledger):
    response = admin_client_for(auditor).get("/admin/ledger/journalentry/?facility=LOAN-ADM&date_from=2026-03-03")
    assert response.status_code == 200
    html = response.content.decode()
    assert "/admin/ledger/journalentry/export.csv?facility=LOAN-ADM&amp;date_from=2026-03-03" in html
    assert "/admin/ledger/journalentry/export.xlsx?facility=LOAN-ADM&amp;date_from=2026-03-03" in html
    assert "Trial balance" in html
    assert len(response.context["cl"].result_list) == 4  # accruals 3..6 March


def test_admin_csv_honours_the_changelist_filters(admin_client_for, auditor, ledger):
    client = admin_client_for(auditor)
    rows = _csv(client.get("/admin/ledger/journalentry/export.csv?source_type__exact=accrual"))
    assert len(rows) == 2 * 5 and {r["source_reference"].split(":")[0] for r in rows} == {"accrual"}

    rows = _csv(client.get("/admin/ledger/journalentry/export.csv?account=1000&date_from=2026-03-03"))
    assert [(r["account_code"], r["running_balance"]) for r in rows] == [("1000", "997.00")]

    rows = _csv(client.get("/admin/ledger/journalentry/export.csv?q=Wire"))
    assert {r["memo"] for r in rows} == {"Wire fee"}

    rows = _csv(client.get("/admin/ledger/journalentry/export.csv"))
    assert len(rows) == 2 * 7


def test_admin_xlsx_download(admin_client_for, auditor, ledger):
    response = admin_client_for(auditor).get("/admin/ledger/journalentry/export.xlsx?facility=LOAN-ADM")
    assert response.status_code == 200
    rows = list(load_workbook(io.BytesIO(b"".join(response.streaming_content))).active.iter_rows(values_only=True))
    assert len(rows) == 1 + 2 * 6


def test_journal_is_read_only_with_lines_inline(admin_client_for, finance, ledger):
    from vault.ledger.models import JournalEntry

    entry = JournalEntry.objects.order_by("id").first()
    client = admin_client_for(finance)
    page = client.get(f"/admin/ledger/journalentry/{entry.pk}/change/")
    assert page.status_code == 200
    assert "2100-LOAN-ADM" in page.content.decode()
    assert client.post(f"/admin/ledger/journalentry/{entry.pk}/change/", {"memo": "x"}).status_code == 403
    assert client.get("/admin/ledger/journalentry/add/").status_code == 403
    assert client.post(f"/admin/ledger/journalentry/{entry.pk}/delete/", {"post": "yes"}).status_code == 403
    entry.refresh_from_db()
    assert entry.memo != "x"


def test_trial_balance_page(admin_client_for, manager, ledger):
    response = admin_client_for(manager).get("/admin/ledger/journalentry/trial-balance/?as_of=2026-03-06")
    assert response.status_code == 200
    report = response.context["report"]
    assert report.balanced and report.total_debit == Decimal("1000.59")  # five days of 0.1166.., rounded once
    html = response.content.decode()
    assert 'id="total-debit">1000.59<' in html and "(balanced)" in html


def test_accounts_page_shows_balances(admin_client_for, auditor, ledger):
    response = admin_client_for(auditor).get("/admin/ledger/account/")
    assert response.status_code == 200
    assert "2100-LOAN-ADM" in response.content.decode()


def test_manufacturers_cannot_reach_the_journal(admin_client_for, maker_a, ledger):
    client = admin_client_for(maker_a)
    assert client.get("/admin/ledger/journalentry/export.csv").status_code == 302  # to the admin login
