import csv
import io
from datetime import date
from decimal import Decimal

import pytest
from django.http import StreamingHttpResponse
from openpyxl import load_workbook

from tests.financing.factories import disbursed_tranche, make_facility, make_private_capital
from vault.financing import services
from vault.ledger import exports
from vault.ledger.exports import COLUMNS, LineExport, csv_chunks, lines_csv
from vault.ledger.models import Account, JournalEntry
from vault.ledger.services import Line, entry_post

D = Decimal


@pytest.fixture
def ledger(finance):
    """EXIM-like loan: 1M drawn 2 March, interest 2..4 March, 100k repaid 10 March; a capital
    call on PC-L 5 March; a manual entry with a formula-looking memo."""
    loan = make_facility(by=finance, code="LOAN-L")
    capital = make_private_capital(by=finance, code="PC-L")
    disbursed_tranche(facility=loan, amount="1000000.00", on=date(2026, 3, 2), by=finance)
    services.interest_accrue(facility=loan, through=date(2026, 3, 4))
    disbursed_tranche(facility=capital, amount="500000.00", on=date(2026, 3, 5), by=finance)
    services.repayment_create(facility=loan, amount=D("100000.00"), date=date(2026, 3, 10), by=finance)
    entry_post(
        date=date(2026, 3, 11),
        memo='=HYPERLINK("http://evil")',
        lines=[Line("5000", debit=D("1.00")), Line("1000", credit=D("1.00"))],
        source_type="manual",
    )
    return loan, capital


def _rows(selection: LineExport) -> list[dict]:
    text = b"".join(lines_csv(selection)).decode()
    return list(csv.DictReader(io.StringIO(text, newline="")))


def test_csv_has_every_line_in_date_entry_line_order_with_the_columns(ledger):
    rows = _rows(LineExport())
    assert list(rows[0].keys()) == COLUMNS
    assert len(rows) == 2 * JournalEntry.objects.count() == 14
    first = JournalEntry.objects.order_by("date", "id").first()
    assert rows[0] == {
        "date": "2026-03-02",
        "entry_number": first.number,
        "account_code": "1000",
        "account_name": "Cash",
        "debit": "1000000.00",
        "credit": "",
        "running_balance": "",
        "memo": first.memo,
        "source_reference": f"tranche:{first.source_id}",
    }
    assert [r["date"] for r in rows] == sorted(r["date"] for r in rows)
    assert rows[-1]["memo"].startswith("'="), "formulas are neutralised"
    assert rows[-1]["source_reference"] == "manual"


def test_one_account_gets_a_running_balance_from_its_opening(ledger):
    cash = Account.objects.get(code="1000")
    rows = _rows(LineExport(account=cash))
    assert [r["running_balance"] for r in rows] == ["1000000.00", "1500000.00", "1400000.00", "1399999.00"]
    assert {r["account_code"] for r in rows} == {"1000"}

    later = _rows(LineExport(account=cash, date_from=date(2026, 3, 5)))
    assert [r["running_balance"] for r in later] == ["1500000.00", "1400000.00", "1399999.00"]

    payable = Account.objects.get(code="2100-LOAN-L")  # credit-normal: balance grows with credits
    assert [r["running_balance"] for r in _rows(LineExport(account=payable))] == ["1000000.00", "900000.00"]


def test_facility_filter_keeps_whole_entries_touching_its_accounts(ledger):
    rows = _rows(LineExport(subledger="LOAN-L"))
    sources = {r["source_reference"].split(":")[0] for r in rows}
    assert sources == {"tranche", "accrual", "repayment"}
    assert len(rows) == 2 * (1 + 3 + 1)
    assert {"1000", "5000", "2000-LOAN-L", "2100-LOAN-L"} == {r["account_code"] for r in rows}
    assert _rows(LineExport(subledger="PC-L"))[1]["account_code"] == "3100-PC-L"


def test_date_range(ledger):
    rows = _rows(LineExport(date_from=date(2026, 3, 3), date_to=date(2026, 3, 5)))
    assert {r["date"] for r in rows} == {"2026-03-03", "2026-03-04", "2026-03-05"}


@pytest.mark.postgres
def test_postgres_copy_and_python_writer_give_the_same_bytes(ledger):
    cash = Account.objects.get(code="1000")
    for selection in (
        LineExport(),
        LineExport(account=cash, date_from=date(2026, 3, 3)),
        LineExport(subledger="LOAN-L", date_to=date(2026, 3, 4)),
        LineExport(entries=JournalEntry.objects.filter(source_type="accrual")),
    ):
        copied = b"".join(lines_csv(selection))
        written = b"".join(csv_chunks(selection.rows(), header=COLUMNS))
        assert copied == written


@pytest.mark.parametrize("prefix", exports.FORMULA_PREFIXES)
def test_every_formula_prefix_is_neutralised_on_either_path(ledger, prefix):
    """COPY on PostgreSQL and the Python writer elsewhere: a memo starting with any of the
    prefixes gets a leading quote, in the CSV and in the XLSX; a memo with one inside does not."""
    for memo in (f"{prefix}1+2", f"a{prefix}b"):  # a CR inside a field is quoted on both paths
        entry_post(
            date=date(2026, 3, 12),
            memo=memo,
            lines=[Line("5000", debit=D("1.00")), Line("1000", credit=D("1.00"))],
            source_type="manual",
        )
    selection = LineExport(date_from=date(2026, 3, 12))
    copied = [r["memo"] for r in _rows(selection)]
    written = [r[7] for r in selection.rows()]
    expected = [f"'{prefix}1+2"] * 2 + [f"a{prefix}b"] * 2
    assert copied == written == expected
    assert b"".join(lines_csv(selection)) == b"".join(csv_chunks(selection.rows(), header=COLUMNS))


def test_csv_streams_in_chunks(ledger, monkeypatch):
    monkeypatch.setattr(exports, "CHUNK_BYTES", 200)
    chunks = list(lines_csv(LineExport()))
    assert len(chunks) > 3
    assert all(isinstance(chunk, bytes) for chunk in chunks)


def test_api_csv_download_streams_with_filters(api, auditor, ledger):
    response = api(auditor).get("/api/v1/ledger/export.csv?account=1000&date_from=2026-03-05")
    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert 'filename="journal_1000_from-2026-03-05.csv"' in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [r["running_balance"] for r in rows] == ["1500000.00", "1400000.00", "1399999.00"]

    facility = api(auditor).get("/api/v1/ledger/export.csv?facility=PC-L", HTTP_ACCEPT="text/csv")
    assert facility.status_code == 200
    assert len(list(csv.reader(io.StringIO(b"".join(facility.streaming_content).decode())))) == 3


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("account=9999", "account"),
        ("facility=NOPE", "facility"),
        ("date_from=2026-13-01", "date_from"),
        ("date_from=2026-03-05&date_to=2026-03-01", "date_to"),
    ],
)
def test_api_export_bad_filters_are_400(api, finance, ledger, query, field):
    for suffix in ("csv", "xlsx"):
        response = api(finance).get(f"/api/v1/ledger/export.{suffix}?{query}")
        assert response.status_code == 400
        assert field in response.json()["errors"]


def test_api_xlsx_download(api, finance, ledger):
    response = api(finance).get("/api/v1/ledger/export.xlsx?account=1000")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[0]) == COLUMNS
    assert len(rows) == 5
    assert rows[1][0].date() == date(2026, 3, 2)
    assert rows[1][4] == 1000000 and rows[1][5] is None
    assert [r[6] for r in rows[1:]] == [1000000, 1500000, 1400000, 1399999]


def test_xlsx_continues_on_a_new_sheet_past_the_row_limit(ledger, monkeypatch):
    monkeypatch.setattr(exports, "XLSX_MAX_ROWS", 6)
    workbook = load_workbook(exports.lines_xlsx(LineExport()))
    assert workbook.sheetnames == ["Journal", "Journal (2)", "Journal (3)"]
    assert sum(ws.max_row - 1 for ws in workbook.worksheets) == 14


@pytest.mark.parametrize("suffix", ["csv", "xlsx"])
def test_exports_are_for_staff_only(api, maker_a, manager, ledger, suffix):
    assert api(maker_a).get(f"/api/v1/ledger/export.{suffix}").status_code == 403
    assert api(None).get(f"/api/v1/ledger/export.{suffix}").status_code in (401, 403)
    assert api(manager).get(f"/api/v1/ledger/export.{suffix}").status_code == 200
