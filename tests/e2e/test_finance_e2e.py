"""Finance downloads the journal from the admin, as CSV and as XLSX, and the files hold the
journal lines of what happened: a stock receipt, a disbursed loan tranche and a fee received."""

import csv
from datetime import date
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from tests.e2e.conftest import login_admin
from tests.financing.factories import disbursed_tranche, make_facility
from vault.financing import services
from vault.ledger.models import JournalEntry

pytestmark = pytest.mark.django_db(transaction=True)

D = Decimal


@pytest.fixture
def journal(lot, finance, org_a):
    """The lot fixture's receipt (1,000 kg at 50 USD/kg: Dr 1300 / Cr 1000 50,000.00); a
    2,500,000.00 tranche of LOAN-E disbursed on 2026-03-02 (Dr 1000 / Cr 2100-LOAN-E); a
    1,000.00 fee from ORG-A on 2026-03-05 (Dr 1000 / Cr 4000)."""
    loan = make_facility(by=finance, code="LOAN-E")
    tranche = disbursed_tranche(facility=loan, amount="2500000.00", on=date(2026, 3, 2), by=finance)
    fee = services.fee_receive(
        organization=org_a,
        amount=D("1000.00"),
        date=date(2026, 3, 5),
        memo="Participation fee",
        by=finance,
        source_type="agreement",
        source_id=None,
    )
    receipt = JournalEntry.objects.get(source_type="movement")
    return {
        "receipt": receipt,
        "tranche": JournalEntry.objects.get(source_type="tranche", source_id=tranche.pk),
        "fee": fee,
    }


def _expected(journal) -> set[tuple]:
    receipt, tranche, fee = journal["receipt"], journal["tranche"], journal["fee"]
    return {
        (receipt.number, "1300", "Inventory at cost", D("50000.00"), None),
        (receipt.number, "1000", "Cash", None, D("50000.00")),
        (tranche.number, "1000", "Cash", D("2500000.00"), None),
        (tranche.number, "2100-LOAN-E", "Loan payable, LOAN-E", None, D("2500000.00")),
        (fee.number, "1000", "Cash", D("1000.00"), None),
        (fee.number, "4000", "Fee income", None, D("1000.00")),
    }


def _money(value) -> Decimal | None:
    if value in (None, ""):
        return None
    return D(str(value)).quantize(D("0.01"))


def _download(page, link_name: str, tmp_path):
    with page.expect_download() as info:
        page.get_by_role("link", name=link_name).click()
    download = info.value
    path = tmp_path / download.suggested_filename
    download.save_as(path)
    return download.suggested_filename, path


def test_finance_downloads_the_journal_as_csv_and_xlsx(new_page, finance, journal, tmp_path):
    page = new_page()
    login_admin(page, finance.username)
    page.goto("/admin/ledger/journalentry/")
    assert page.locator("#result_list tbody tr").count() == 3

    name, path = _download(page, "Download CSV", tmp_path)
    assert name == "journal.csv"
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 6
    assert {
        (r["entry_number"], r["account_code"], r["account_name"], _money(r["debit"]), _money(r["credit"])) for r in rows
    } == _expected(journal)
    tranche_row = next(r for r in rows if r["account_code"] == "2100-LOAN-E")
    assert tranche_row["date"] == "2026-03-02"
    assert tranche_row["source_reference"] == f"tranche:{journal['tranche'].source_id}"
    fee_row = next(r for r in rows if r["account_code"] == "4000")
    assert (fee_row["date"], fee_row["memo"]) == ("2026-03-05", "Participation fee")
    # Oldest first: the March entries, then today's receipt.
    assert [r["date"] for r in rows] == sorted(r["date"] for r in rows)

    name, path = _download(page, "Download XLSX", tmp_path)
    assert name == "journal.xlsx"
    sheet = load_workbook(path, read_only=True)["Journal"]
    header, *lines = list(sheet.iter_rows(values_only=True))
    assert header[:6] == ("date", "entry_number", "account_code", "account_name", "debit", "credit")
    assert len(lines) == 6
    assert {(r[1], r[2], r[3], _money(r[4]), _money(r[5])) for r in lines} == _expected(journal)
    assert next(r for r in lines if r[2] == "2100-LOAN-E")[0].date() == date(2026, 3, 2)


def test_download_of_one_account_follows_the_filter_and_runs_its_balance(new_page, finance, journal, tmp_path):
    page = new_page()
    login_admin(page, finance.username)
    page.goto("/admin/ledger/journalentry/")
    page.locator("#changelist-filter").get_by_role("link", name="1000 Cash", exact=True).click()
    page.wait_for_url("**/admin/ledger/journalentry/?account=1000")
    name, path = _download(page, "Download CSV", tmp_path)
    assert name == "journal_1000.csv"
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["date"], r["debit"], r["credit"], r["running_balance"]) for r in rows] == [
        ("2026-03-01", "", "50000.00", "-50000.00"),  # the lot's receipt, on its received date
        ("2026-03-02", "2500000.00", "", "2450000.00"),
        ("2026-03-05", "1000.00", "", "2451000.00"),
    ]
