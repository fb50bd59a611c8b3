"""Every download of the ledger or of a statement (API and admin, CSV and Excel) leaves exactly
one DownloadRecord with the user, what, the filter and the format; a refused download leaves
none; records are append-only and read-only in the admin."""

from datetime import date

import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.test import Client

from tests.financing.factories import disbursed_tranche, make_facility
from vault.accounts.services import roles_sync
from vault.ledger.models import DownloadRecord

JOURNAL, STATEMENT = "journal", "facility_statement"
STATEMENT_QUERY = {"facility": "LOAN-DL", "period": "month", "date_from": "2026-03-01", "date_to": "2026-04-30"}

# (client kind, url, what, format, recorded query, row_count)
DOWNLOADS = [
    (
        "api",
        "/api/v1/ledger/export.csv?facility=LOAN-DL&date_from=2026-03-01",
        JOURNAL,
        "csv",
        {"facility": "LOAN-DL", "date_from": "2026-03-01"},
        None,
    ),
    ("api", "/api/v1/ledger/export.xlsx?account=1000", JOURNAL, "xlsx", {"account": "1000"}, None),
    (
        "admin",
        "/admin/ledger/journalentry/export.csv?source_type__exact=tranche&date_to=2026-03-31",
        JOURNAL,
        "csv",
        {"source_type__exact": "tranche", "date_to": "2026-03-31"},
        None,
    ),
    ("admin", "/admin/ledger/journalentry/export.xlsx", JOURNAL, "xlsx", {}, None),
    (
        "api",
        "/api/v1/facilities/LOAN-DL/statement.csv?period=month&date_from=2026-03-01&date_to=2026-04-30",
        STATEMENT,
        "csv",
        STATEMENT_QUERY,
        2,
    ),
    (
        "api",
        "/api/v1/facilities/LOAN-DL/statement.xlsx?date_from=2026-03-01&date_to=2026-04-30",
        STATEMENT,
        "xlsx",
        STATEMENT_QUERY,
        2,
    ),
    (
        "admin",
        "/admin/financing/facility/LOAN-DL/statement/?period=month&date_from=2026-03-01&date_to=2026-04-30&download=csv",
        STATEMENT,
        "csv",
        STATEMENT_QUERY,
        2,
    ),
    (
        "admin",
        "/admin/financing/facility/LOAN-DL/statement/?date_from=2026-03-01&date_to=2026-04-30&download=xlsx",
        STATEMENT,
        "xlsx",
        STATEMENT_QUERY,
        2,
    ),
]


@pytest.fixture
def loan(finance):
    loan = make_facility(by=finance, code="LOAN-DL")
    disbursed_tranche(facility=loan, amount="1000.00", on=date(2026, 3, 2), by=finance)
    return loan


@pytest.fixture
def browser(db):
    roles_sync()

    def login(user) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return login


def _fetch(kind, user, url, api, browser):
    client = api(user) if kind == "api" else browser(user)
    response = client.get(url)
    if getattr(response, "streaming", False):
        b"".join(response.streaming_content)
    return response


@pytest.mark.parametrize(("kind", "url", "what", "fmt", "query", "row_count"), DOWNLOADS)
def test_each_download_leaves_exactly_one_record(api, browser, auditor, loan, kind, url, what, fmt, query, row_count):
    response = _fetch(kind, auditor, url, api, browser)
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    record = DownloadRecord.objects.get()
    assert (record.user, record.what, record.format, record.via) == (auditor, what, fmt, kind)
    assert record.query == query
    assert record.row_count == row_count
    assert record.at is not None


def test_repeated_downloads_each_leave_a_record(api, auditor, finance, loan):
    api(auditor).get("/api/v1/ledger/export.csv?facility=LOAN-DL")
    api(finance).get("/api/v1/ledger/export.csv?date_from=2026-01-01&date_from=2026-02-01")
    assert list(DownloadRecord.objects.order_by("id").values_list("user__username", "query")) == [
        ("auditor1", {"facility": "LOAN-DL"}),
        ("finance1", {"date_from": ["2026-01-01", "2026-02-01"]}),
    ]


@pytest.mark.parametrize(
    ("who", "url"),
    [
        ("auditor", "/api/v1/ledger/export.csv?date_from=not-a-date"),
        ("auditor", "/api/v1/facilities/NOPE/statement.csv"),
        ("auditor", "/api/v1/facilities/LOAN-DL/statement.xlsx?period=week"),
        ("maker_a", "/api/v1/ledger/export.csv"),
        ("maker_a", "/api/v1/facilities/LOAN-DL/statement.csv"),
        (None, "/api/v1/ledger/export.xlsx"),
    ],
)
def test_a_refused_download_leaves_no_record(api, loan, who, url, request):
    user = request.getfixturevalue(who) if who else None
    assert api(user).get(url).status_code in (400, 401, 403, 404)
    assert DownloadRecord.objects.count() == 0


def test_the_statement_page_itself_is_not_a_download(browser, auditor, loan):
    assert browser(auditor).get("/admin/financing/facility/LOAN-DL/statement/").status_code == 200
    assert DownloadRecord.objects.count() == 0


def _sql(statement, params=()):
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement, params)


@pytest.mark.postgres
@pytest.mark.parametrize(
    "statement",
    ["UPDATE ledger_downloadrecord SET query = '{}' WHERE id = %s", "DELETE FROM ledger_downloadrecord WHERE id = %s"],
)
def test_records_are_append_only_in_the_database(api, auditor, loan, statement):
    api(auditor).get("/api/v1/ledger/export.csv?facility=LOAN-DL")
    record = DownloadRecord.objects.get()
    with pytest.raises((DatabaseError, IntegrityError), match="append-only"):
        _sql(statement, [record.pk])
    record.refresh_from_db()
    assert record.query == {"facility": "LOAN-DL"}


@pytest.mark.postgres
def test_postgres_refuses_changes_to_records(api, auditor, loan):
    api(auditor).get("/api/v1/ledger/export.csv")
    with pytest.raises(DatabaseError, match="ledger_downloadrecord rows are append-only"):
        _sql("UPDATE ledger_downloadrecord SET user_id = user_id WHERE true")


@pytest.mark.parametrize("who", ["auditor", "finance", "manager"])
def test_admin_lists_records_read_only(api, browser, loan, who, request):
    user = request.getfixturevalue(who)
    api(user).get("/api/v1/ledger/export.csv?facility=LOAN-DL")
    record = DownloadRecord.objects.get()
    client = browser(user)
    listing = client.get("/admin/ledger/downloadrecord/")
    assert listing.status_code == 200
    assert "LOAN-DL" in listing.content.decode()
    change = client.get(f"/admin/ledger/downloadrecord/{record.pk}/change/")
    assert change.status_code == 200
    assert 'name="_save"' not in change.content.decode()
    assert client.post(f"/admin/ledger/downloadrecord/{record.pk}/change/", {"query": "{}"}).status_code == 403
    assert client.get("/admin/ledger/downloadrecord/add/").status_code == 403
    assert client.post(f"/admin/ledger/downloadrecord/{record.pk}/delete/", {"post": "yes"}).status_code == 403
    record.refresh_from_db()
    assert record.query == {"facility": "LOAN-DL"}
