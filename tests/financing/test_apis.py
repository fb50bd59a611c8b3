from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.financing.factories import approved_tranche, disbursed_tranche, make_facility, make_private_capital
from tests.financing.helpers import row_counts
from vault.financing import services
from vault.financing.models import Facility, Tranche

ON = date(2026, 3, 2)
FACILITY_BODY = {
    "code": "EXIM-API",
    "name": "EXIM direct loan",
    "kind": "loan",
    "counterparty": "EXIM",
    "commitment": "10000000000.00",
    "interest_rate_pct": "4.25",
    "day_count": "ACT/360",
    "available_from": "2026-01-01",
    "available_until": "2030-12-31",
    "maturity_date": "2041-01-01",
}


# --- roles --------------------------------------------------------------------------------------

READ_URLS = [
    "/api/v1/facilities/",
    "/api/v1/facilities/LOAN-T/",
    "/api/v1/facilities/LOAN-T/statement/",
    "/api/v1/facilities/LOAN-T/statement.csv",
    "/api/v1/facilities/LOAN-T/statement.xlsx",
    "/api/v1/tranches/",
    "/api/v1/repayments/",
    "/api/v1/interest-accruals/",
    "/api/v1/interest-payments/",
    "/api/v1/fees/",
    "/api/v1/price-points/",
    "/api/v1/valuation/",
]


@pytest.mark.parametrize("url", READ_URLS)
def test_staff_read_manufacturers_and_anonymous_do_not(api, loan, finance, manager, auditor, maker_a, url):
    for user in (finance, manager, auditor):
        assert api(user).get(url).status_code == 200, (user.role, url)
    assert api(maker_a).get(url).status_code == 403
    assert api(None).get(url).status_code in (401, 403)


WRITES = [
    ("/api/v1/facilities/", FACILITY_BODY),
    ("/api/v1/tranches/", {"facility": "LOAN-T", "amount": "1.00", "expected_date": "2026-03-02"}),
    ("/api/v1/repayments/", {"facility": "LOAN-T", "amount": "1.00", "date": "2026-03-02"}),
    ("/api/v1/price-points/", {"material": "NDPR-OX", "date": "2026-03-02", "usd_per_kg": "60", "source": "X"}),
]


@pytest.mark.parametrize(("url", "body"), WRITES)
def test_only_finance_writes(api, loan, material, manager, auditor, maker_a, url, body):
    before = row_counts()
    for user in (manager, auditor, maker_a):
        assert api(user).post(url, body, format="json").status_code == 403
    assert row_counts() == before


def test_workflow_actions_are_finance_only(api, loan, finance, manager, auditor, maker_a):
    tranche = approved_tranche(facility=loan, amount="1.00", by=finance)
    for user in (manager, auditor, maker_a):
        for verb in ("approve", "disburse", "cancel"):
            assert api(user).post(f"/api/v1/tranches/{tranche.pk}/{verb}/").status_code == 403
    assert Tranche.objects.get(pk=tranche.pk).status == "approved"


# --- facilities -----------------------------------------------------------------------------------


def test_finance_creates_a_facility(api, finance):
    response = api(finance).post("/api/v1/facilities/", FACILITY_BODY, format="json")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["code"] == "EXIM-API"
    assert body["interest_rate_pct"] == "4.250000"
    assert (body["disbursed"], body["outstanding"], body["undrawn"]) == ("0.00", "0.00", "10000000000.00")
    assert (body["account"], body["interest_account"]) == ("2100-EXIM-API", "2000-EXIM-API")
    assert body["rate_schedule"] == [{"effective_from": "2026-01-01", "rate_pct": "4.250000"}]
    assert api(finance).get("/api/v1/facilities/EXIM-API/").json() == body


def test_read_only_totals_are_ignored_on_create(api, finance):
    response = api(finance).post(
        "/api/v1/facilities/", {**FACILITY_BODY, "disbursed": "5.00", "undrawn": "1.00"}, format="json"
    )
    assert response.status_code == 201
    assert Facility.objects.get().disbursed == 0


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"commitment": "-10.00"}, "commitment"),
        ({"commitment": "10.001"}, "commitment"),
        ({"interest_rate_pct": None}, "interest_rate_pct"),
        ({"available_until": "2025-01-01"}, "available_until"),
        ({"maturity_date": "2027-01-01"}, "maturity_date"),
        ({"kind": "bond"}, "kind"),
        ({"currency": "EUR"}, "currency"),
        ({"code": "bad code"}, "code"),
    ],
)
def test_bad_facility_is_400_with_the_field_named_and_nothing_written(api, finance, change, field):
    before = row_counts()
    response = api(finance).post("/api/v1/facilities/", {**FACILITY_BODY, **change}, format="json")
    assert response.status_code == 400
    assert field in response.json()["errors"], response.json()
    assert row_counts() == before


def test_duplicate_code_is_400(api, finance, loan):
    response = api(finance).post("/api/v1/facilities/", {**FACILITY_BODY, "code": "LOAN-T"}, format="json")
    assert response.status_code == 400
    assert "code" in response.json()["errors"]


def test_patch_changes_terms_but_not_totals_or_rates(api, finance, loan):
    response = api(finance).patch("/api/v1/facilities/LOAN-T/", {"name": "Renamed"}, format="json")
    assert response.status_code == 200
    assert response.json()["name"] == "Renamed"
    for field in ("disbursed", "interest_rate_pct", "code"):
        response = api(finance).patch("/api/v1/facilities/LOAN-T/", {field: "1"}, format="json")
        assert response.status_code == 400
        assert field in response.json()["errors"]


def test_rate_change_action(api, finance, loan):
    response = api(finance).post(
        "/api/v1/facilities/LOAN-T/rates/", {"effective_from": "2026-06-01", "rate_pct": "4.75"}, format="json"
    )
    assert response.status_code == 201
    schedule = api(finance).get("/api/v1/facilities/LOAN-T/").json()["rate_schedule"]
    assert [r["rate_pct"] for r in schedule] == ["4.250000", "4.750000"]
    response = api(finance).post(
        "/api/v1/facilities/LOAN-T/rates/", {"effective_from": "2026-06-01", "rate_pct": "5"}, format="json"
    )
    assert response.status_code == 409
    assert "effective_from" in response.json()["errors"]


def test_private_capital_reads_without_rate(api, finance, capital):
    body = api(finance).get("/api/v1/facilities/PC-T/").json()
    assert (body["kind"], body["interest_rate_pct"], body["interest_account"]) == ("private_capital", None, None)


# --- tranches -----------------------------------------------------------------------------------


def test_plan_approve_disburse_cancel_through_the_api(api, finance, checker, loan):
    client = api(finance)
    response = client.post(
        "/api/v1/tranches/",
        {"facility": "LOAN-T", "amount": "250000000.00", "expected_date": "2026-03-02", "purpose": "Oxides"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    tranche_id = response.json()["id"]
    assert response.json()["status"] == "planned"

    refused = client.post(f"/api/v1/tranches/{tranche_id}/approve/")
    assert (refused.status_code, refused.json()["code"]) == (409, "second_user_required")
    approved = api(checker).post(f"/api/v1/tranches/{tranche_id}/approve/").json()
    assert (approved["status"], approved["created_by"], approved["approved_by"]) == (
        "approved",
        "finance1",
        checker.username,
    )
    assert client.get("/api/v1/facilities/LOAN-T/").json()["approved"] == "250000000.00"

    # 250M is above the 100M threshold: the first call asks, a second finance user confirms.
    response = client.post(f"/api/v1/tranches/{tranche_id}/disburse/", {"date": "2026-03-02"}, format="json")
    assert response.status_code == 202, response.json()
    body = response.json()
    assert (body["status"], body["disbursement_pending"], body["disbursement_requested_by"]) == (
        "approved",
        True,
        "finance1",
    )
    assert body["disbursement_date"] == "2026-03-02" and body["actual_date"] is None
    refused = client.post(f"/api/v1/tranches/{tranche_id}/disburse/confirm/")
    assert (refused.status_code, refused.json()["code"]) == (409, "second_user_required")
    response = api(checker).post(f"/api/v1/tranches/{tranche_id}/disburse/confirm/")
    assert response.status_code == 200, response.json()
    assert (response.json()["status"], response.json()["actual_date"]) == ("disbursed", "2026-03-02")
    assert (response.json()["disbursed_by"], response.json()["disbursement_pending"]) == (checker.username, False)

    facility = client.get("/api/v1/facilities/LOAN-T/").json()
    assert (facility["disbursed"], facility["outstanding"], facility["undrawn"]) == (
        "250000000.00",
        "250000000.00",
        "9750000000.00",
    )
    other = client.post(
        "/api/v1/tranches/", {"facility": "LOAN-T", "amount": "1.00", "expected_date": "2026-04-01"}, format="json"
    ).json()
    assert client.post(f"/api/v1/tranches/{other['id']}/cancel/", {"reason": "not needed"}).json()["status"] == (
        "cancelled"
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"amount": "-5.00"}, "amount"),
        ({"amount": "0.00"}, "amount"),
        ({"amount": "5.001"}, "amount"),
        ({"amount": "10000000000.01"}, "amount"),
        ({"expected_date": "2031-01-01"}, "expected_date"),
        ({"expected_date": "2025-12-31"}, "expected_date"),
        ({"facility": "NOPE"}, "facility"),
    ],
)
def test_bad_tranche_is_400_with_the_field_named_and_nothing_written(api, finance, loan, body, field):
    before = row_counts()
    response = api(finance).post(
        "/api/v1/tranches/",
        {"facility": "LOAN-T", "amount": "1.00", "expected_date": "2026-03-02", **body},
        format="json",
    )
    assert response.status_code == 400, response.json()
    assert field in response.json()["errors"]
    assert row_counts() == before


def test_commitment_cannot_go_below_what_approved_tranches_reserve(api, finance, loan):
    disbursed_tranche(facility=loan, amount="9999999999.00", on=ON, by=finance)
    approved_tranche(facility=loan, amount="1.00", by=finance)
    before = row_counts()
    response = api(finance).patch("/api/v1/facilities/LOAN-T/", {"commitment": "9999999999.50"}, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "commitment_below_disbursed"
    assert "commitment" in response.json()["errors"]
    assert row_counts() == before


def test_disbursing_a_cancelled_tranche_is_409(api, finance, loan):
    tranche = services.tranche_cancel(tranche=approved_tranche(facility=loan, amount="1.00", by=finance), by=finance)
    before = row_counts()
    response = api(finance).post(f"/api/v1/tranches/{tranche.pk}/disburse/", {"date": "2026-03-02"}, format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "invalid_transition"
    assert "status" in response.json()["errors"]
    assert row_counts() == before


@pytest.mark.parametrize(("day", "status"), [("2025-12-31", 400), ("2099-01-01", 400), ("03/02/2026", 400)])
def test_bad_disbursal_dates(api, finance, loan, day, status):
    tranche = approved_tranche(facility=loan, amount="1.00", by=finance)
    before = row_counts()
    response = api(finance).post(f"/api/v1/tranches/{tranche.pk}/disburse/", {"date": day}, format="json")
    assert response.status_code == status
    assert "date" in response.json()["errors"]
    assert row_counts() == before


# --- repayments, interest, fees, prices ---------------------------------------------------------


def test_repayments_interest_payments_and_accruals(api, finance, loan):
    disbursed_tranche(facility=loan, amount="1000000.00", on=ON, by=finance)
    services.interest_accrue(facility=loan, through=date(2026, 3, 11))
    client = api(finance)

    response = client.post(
        "/api/v1/repayments/", {"facility": "LOAN-T", "amount": "250000.00", "date": "2026-03-12"}, format="json"
    )
    assert response.status_code == 201, response.json()
    assert client.get("/api/v1/facilities/LOAN-T/").json()["outstanding"] == "750000.00"
    response = client.post(
        "/api/v1/repayments/", {"facility": "LOAN-T", "amount": "750000.01", "date": "2026-03-12"}, format="json"
    )
    assert response.status_code == 400
    assert "amount" in response.json()["errors"]

    accruals = client.get("/api/v1/interest-accruals/?facility=LOAN-T").json()["results"]
    assert len(accruals) == 10
    assert accruals[0] == {
        "id": accruals[0]["id"],
        "facility": "LOAN-T",
        "date": "2026-03-11",
        "principal": "1000000.00",
        "rate_pct": "4.250000",
        "day_count": "ACT/360",
        "amount": "118.06",
    }
    response = client.post(
        "/api/v1/interest-payments/", {"facility": "LOAN-T", "amount": "1180.56", "date": "2026-03-12"}, format="json"
    )
    assert response.status_code == 201, response.json()
    response = client.post(
        "/api/v1/interest-payments/", {"facility": "LOAN-T", "amount": "0.01", "date": "2026-03-12"}, format="json"
    )
    assert response.status_code == 400


def test_fees_and_price_points(api, finance, org_a, material):
    client = api(finance)
    response = client.post(
        "/api/v1/fees/", {"organization": "ORG-A", "amount": "250000.00", "date": "2026-03-02"}, format="json"
    )
    assert response.status_code == 201, response.json()
    assert response.json()["entry"].startswith("JE-")

    body = {"material": "NDPR-OX", "date": "2026-03-02", "usd_per_kg": "61.5", "source": "Fastmarkets"}
    assert client.post("/api/v1/price-points/", body, format="json").status_code == 201
    assert client.post("/api/v1/price-points/", body, format="json").status_code == 409
    response = client.post("/api/v1/price-points/", {**body, "usd_per_kg": "-1"}, format="json")
    assert response.status_code == 400
    assert "usd_per_kg" in response.json()["errors"]
    assert client.get("/api/v1/price-points/?material=NDPR-OX").json()["results"][0]["usd_per_kg"] == "61.5000"


def test_price_import_upload(api, finance, material, manager):
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("p.csv", b"material,date,usd_per_kg,source\nNDPR-OX,2026-03-01,60,A\n")
    response = api(finance).post("/api/v1/price-points/import/", {"file": upload}, format="multipart")
    assert response.status_code == 201, response.json()
    assert response.json() == {"created": 1, "updated": 0, "unchanged": 0, "pending": []}
    bad = SimpleUploadedFile("p.csv", b"material,date,usd_per_kg,source\nNOPE,2026-03-01,60,A\n")
    response = api(finance).post("/api/v1/price-points/import/", {"file": bad}, format="multipart")
    assert response.status_code == 400
    assert "file" in response.json()["errors"]
    upload.seek(0)
    assert api(manager).post("/api/v1/price-points/import/", {"file": upload}, format="multipart").status_code == 403


def test_valuation_api(api, auditor, lot):
    from vault.financing.models import PricePoint

    PricePoint.objects.create(material=lot.material, date=date(2026, 1, 5), usd_per_kg=Decimal("80"), source="A")
    body = api(auditor).get("/api/v1/valuation/").json()
    assert body["materials"][0] == {
        "material": "NDPR-OX",
        "name": "NdPr oxide",
        "quantity_kg": "1000.000",
        "cost": "50000.00",
        "average_cost_per_kg": "50.0000",
        "market_price": "80.0000",
        "price_date": "2026-01-05",
        "price_source": "A",
        "market_value": "80000.00",
        "floor_price": None,
        "floor_value": None,
        "unrealised_gain_loss": "30000.00",
    }
    assert body["total_unrealised_gain_loss"] == "30000.00"
    response = api(auditor).get("/api/v1/valuation/?as_of=yesterday")
    assert response.status_code == 400
    assert "as_of" in response.json()["errors"]


def test_statement_endpoints(api, auditor, finance, loan):
    disbursed_tranche(facility=loan, amount="1000000.00", on=ON, by=finance)
    body = api(auditor).get("/api/v1/facilities/LOAN-T/statement/?period=quarter&date_to=2026-06-30").json()
    assert [r["period"] for r in body["rows"]] == ["2026-Q1", "2026-Q2"]
    assert body["rows"][0]["disbursements"] == "1000000.00"

    response = api(auditor).get("/api/v1/facilities/LOAN-T/statement.csv?date_from=2026-03-01&date_to=2026-04-30")
    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode()
    lines = text.splitlines()
    assert lines[0].startswith("period,start,end,opening_principal,disbursements,repayments")
    assert lines[1] == "2026-03,2026-03-01,2026-03-31,0.00,1000000.00,0.00,0.00,1000000.00,0.00,0.00,0.00,0.00,0.00"
    assert len(lines) == 3

    response = api(auditor).get("/api/v1/facilities/LOAN-T/statement.xlsx?date_to=2026-04-30")
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    from io import BytesIO

    from openpyxl import load_workbook

    sheet = load_workbook(BytesIO(b"".join(response.streaming_content))).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "period"
    assert [r[0] for r in rows[1:]] == ["2026-01", "2026-02", "2026-03", "2026-04"]
    assert rows[3][4] == 1000000

    assert api(auditor).get("/api/v1/facilities/NOPE/statement/").status_code == 404
    assert api(auditor).get("/api/v1/facilities/LOAN-T/statement/?period=week").status_code == 400


# --- query counts -------------------------------------------------------------------------------


def _populate(n: int, finance, org, material):
    from vault.financing.models import PricePoint

    for i in range(n):
        facility = (
            make_facility(by=finance, code=f"Q-{n}-{i}")
            if i % 2
            else make_private_capital(by=finance, code=f"Q-{n}-{i}")
        )
        if facility.is_loan:
            services.facility_rate_set(
                facility=facility, effective_from=date(2026, 2, 1), rate_pct=Decimal("5"), by=finance
            )
        disbursed_tranche(facility=facility, amount="1000.00", on=ON, by=finance)
        services.tranche_plan(facility=facility, amount=Decimal("1.00"), expected_date=ON, by=finance)
        services.repayment_create(facility=facility, amount=Decimal("1.00"), date=ON, by=finance)
        if facility.is_loan:
            services.interest_accrue(facility=facility, through=date(2026, 3, 3))
            services.interest_pay(facility=facility, amount=Decimal("0.01"), date=date(2026, 3, 4), by=finance)
        services.fee_receive(
            organization=org, amount=Decimal("1.00"), date=ON, memo="", by=finance, source_type=f"fee-{n}", source_id=i
        )
        PricePoint.objects.create(material=material, date=date(2026, 1, 1 + i), usd_per_kg=1, source=f"S{n}")


LIST_URLS = [
    "/api/v1/facilities/",
    "/api/v1/tranches/",
    "/api/v1/repayments/",
    "/api/v1/interest-accruals/",
    "/api/v1/interest-payments/",
    "/api/v1/fees/",
    "/api/v1/price-points/",
]


@pytest.mark.parametrize("url", LIST_URLS)
def test_list_queries_do_not_grow_with_rows(api, finance, org_a, material, url):
    client = api(finance)

    def queries() -> tuple[int, int]:
        with CaptureQueriesContext(connection) as context:
            response = client.get(url)
        assert response.status_code == 200
        return len(context.captured_queries), len(response.json()["results"])

    _populate(2, finance, org_a, material)
    few, few_rows = queries()
    _populate(6, finance, org_a, material)
    many, many_rows = queries()
    assert many_rows > few_rows
    assert many == few, f"{url}: {few} queries for {few_rows} rows, {many} for {many_rows}"
    assert few <= 4


@pytest.mark.parametrize("url", LIST_URLS)
def test_lists_accept_page_size(api, finance, org_a, material, url):
    _populate(6, finance, org_a, material)
    body = api(finance).get(f"{url}?page_size=2").json()
    assert len(body["results"]) == 2
    assert body["next"] is not None


# --- hostile input --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/facilities/LO%00AN/",
        "/api/v1/facilities/LO%00AN/statement/",
        "/api/v1/facilities/LO%00AN/statement.csv",
        "/api/v1/ledger/accounts/10%0000/",
    ],
)
def test_nul_characters_in_codes_are_not_found(api, finance, loan, url):
    assert api(finance).get(url).status_code == 404


def test_nul_characters_in_related_codes_are_400(api, finance, loan):
    response = api(finance).post(
        "/api/v1/tranches/", {"facility": "LOAN\x00-T", "amount": "1.00", "expected_date": "2026-03-02"}, format="json"
    )
    assert response.status_code == 400
    assert "facility" in response.json()["errors"]
    assert api(finance).get("/api/v1/ledger/export.csv?account=10%0000").status_code == 400


@pytest.mark.parametrize(("suffix", "kind"), [("csv", "text/csv"), ("xlsx", "application/vnd.openxmlformats")])
def test_downloads_answer_files_for_any_accept_and_json_errors(api, finance, loan, suffix, kind):
    client = api(finance)
    for accept in ("*/*", "application/json", kind, "text/html", "image/png"):
        response = client.get(f"/api/v1/facilities/LOAN-T/statement.{suffix}", HTTP_ACCEPT=accept)
        assert response.status_code == 200, accept
        assert response["Content-Type"].startswith(kind)
    for url in (f"/api/v1/facilities/NOPE/statement.{suffix}", f"/api/v1/ledger/export.{suffix}?date_from=x"):
        response = client.get(url, HTTP_ACCEPT=kind)
        assert response.status_code in (400, 404)
        assert response["Content-Type"] == "application/json"
        assert "code" in response.json()
    assert client.get(f"/api/v1/ledger/export.{suffix}?format=nonsense").status_code == 200


def test_price_import_as_json_text(api, finance, material):
    text = "material,date,usd_per_kg,source\nNDPR-OX,2026-03-01,60,A\n"
    response = api(finance).post("/api/v1/price-points/import/", {"text": text}, format="json")
    assert response.status_code == 201
    assert response.json() == {"created": 1, "updated": 0, "unchanged": 0, "pending": []}
    response = api(finance).post("/api/v1/price-points/import/", {"nothing": 1}, format="json")
    assert response.status_code == 400
    assert "text" in response.json()["errors"]
