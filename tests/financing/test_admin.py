from datetime import date
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from tests.financing.factories import approved_tranche, disbursed_tranche
from tests.financing.helpers import row_counts
from vault.financing.models import Facility, PricePoint, Repayment, Tranche


@pytest.fixture
def client_for():
    def make(user) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return make


def test_facility_pages(client_for, finance, manager, loan):
    disbursed_tranche(facility=loan, amount="1000.00", on=date(2026, 3, 2), by=finance)
    client = client_for(manager)
    listing = client.get("/admin/financing/facility/")
    assert listing.status_code == 200 and "LOAN-T" in listing.content.decode()
    page = client.get(f"/admin/financing/facility/{loan.pk}/change/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "4.250000" in html  # rate schedule inline
    assert "2026-03-02" in html or "March 2, 2026" in html  # tranche inline
    assert "Statement" in html


def test_add_facility_through_the_service_and_errors_on_the_form(client_for, finance, manager):
    data = {
        "code": "EXIM-ADM",
        "name": "EXIM",
        "kind": "loan",
        "counterparty": "EXIM",
        "commitment": "10000000000.00",
        "currency": "USD",
        "interest_rate_pct": "4.25",
        "day_count": "ACT/360",
        "available_from": "2026-01-01",
        "available_until": "2030-12-31",
        "maturity_date": "2041-01-01",
    }
    assert client_for(manager).post("/admin/financing/facility/add/", data).status_code == 403
    client = client_for(finance)
    bad = client.post("/admin/financing/facility/add/", {**data, "maturity_date": "2027-01-01"})
    assert bad.status_code == 400
    assert "maturity_date" in bad.context["form"].errors
    assert not Facility.objects.exists()
    response = client.post("/admin/financing/facility/add/", data)
    assert response.status_code == 302
    facility = Facility.objects.get()
    assert facility.account.code == "2100-EXIM-ADM"
    assert facility.rates.get().rate_pct == Decimal("4.25")


def test_terms_and_rate_forms(client_for, finance, loan):
    client = client_for(finance)
    response = client.post(
        "/admin/financing/facility/LOAN-T/terms/",
        {
            "name": "Renamed",
            "counterparty": "EXIM",
            "commitment": "9000000000.00",
            "available_until": "2030-12-31",
            "maturity_date": "2041-01-01",
        },
    )
    assert response.status_code == 302
    loan.refresh_from_db()
    assert (loan.name, loan.commitment) == ("Renamed", Decimal("9000000000.00"))
    response = client.post("/admin/financing/facility/LOAN-T/rate/", {"effective_from": "2026-06-01", "rate_pct": "5"})
    assert response.status_code == 302
    assert loan.rates.count() == 2


def test_tranche_plan_approve_and_disburse_from_the_admin(client_for, finance, checker, loan):
    client = client_for(finance)
    response = client.post(
        "/admin/financing/tranche/add/",
        {"facility": "LOAN-T", "amount": "1000.00", "expected_date": "2026-03-02", "purpose": "x"},
    )
    assert response.status_code == 302
    tranche = Tranche.objects.get()
    mine = client.post(
        "/admin/financing/tranche/", {"action": "approve", "_selected_action": [tranche.pk]}, follow=True
    )
    assert any("needs a second user" in str(m) for m in mine.context["messages"])
    assert Tranche.objects.get(pk=tranche.pk).status == "planned"
    client_for(checker).post(
        "/admin/financing/tranche/", {"action": "approve", "_selected_action": [tranche.pk]}, follow=True
    )
    tranche.refresh_from_db()
    assert (tranche.status, tranche.approved_by) == ("approved", checker)

    before = row_counts()
    bad = client.post(f"/admin/financing/tranche/{tranche.pk}/disburse/", {"date": "2025-01-01"})
    assert bad.status_code == 400 and "date" in bad.context["form"].errors
    assert row_counts() == before
    assert client.post(f"/admin/financing/tranche/{tranche.pk}/disburse/", {"date": "2026-03-02"}).status_code == 302
    tranche.refresh_from_db()
    assert tranche.status == "disbursed"


def test_cancel_action_reports_refusals(client_for, finance, loan):
    done = disbursed_tranche(facility=loan, amount="1.00", on=date(2026, 3, 2), by=finance)
    open_one = approved_tranche(facility=loan, amount="1.00", by=finance)
    response = client_for(finance).post(
        "/admin/financing/tranche/", {"action": "cancel", "_selected_action": [done.pk, open_one.pk]}, follow=True
    )
    messages = [str(m) for m in response.context["messages"]]
    assert any("cannot be cancelled" in m for m in messages)
    assert Tranche.objects.get(pk=open_one.pk).status == "cancelled"
    assert Tranche.objects.get(pk=done.pk).status == "disbursed"


def test_repayment_add(client_for, finance, loan):
    disbursed_tranche(facility=loan, amount="1000.00", on=date(2026, 3, 2), by=finance)
    client = client_for(finance)
    too_much = client.post(
        "/admin/financing/repayment/add/", {"facility": "LOAN-T", "amount": "1000.01", "date": "2026-03-03"}
    )
    assert too_much.status_code == 400 and "amount" in too_much.context["form"].errors
    ok = client.post(
        "/admin/financing/repayment/add/", {"facility": "LOAN-T", "amount": "400.00", "date": "2026-03-03"}
    )
    assert ok.status_code == 302
    assert Repayment.objects.get().amount == Decimal("400.00")


def test_statement_page_and_downloads(client_for, auditor, finance, loan):
    disbursed_tranche(facility=loan, amount="1000.00", on=date(2026, 3, 2), by=finance)
    client = client_for(auditor)
    page = client.get(
        "/admin/financing/facility/LOAN-T/statement/?period=month&date_from=2026-03-01&date_to=2026-04-30"
    )
    assert page.status_code == 200
    assert [r.period for r in page.context["statement"].rows] == ["2026-03", "2026-04"]
    csv_response = client.get(
        "/admin/financing/facility/LOAN-T/statement/?period=month&date_from=2026-03-01&date_to=2026-04-30&download=csv"
    )
    assert b"".join(csv_response.streaming_content).decode().count("\n") == 3
    xlsx = client.get("/admin/financing/facility/LOAN-T/statement/?download=xlsx")
    assert xlsx["Content-Type"].startswith("application/vnd.openxmlformats")


def test_price_import_and_valuation_pages(client_for, finance, manager, lot):
    client = client_for(finance)
    listing = client.get("/admin/financing/pricepoint/")
    assert "Import CSV" in listing.content.decode()
    assert "Import CSV" not in client_for(manager).get("/admin/financing/pricepoint/").content.decode()

    upload = SimpleUploadedFile(
        "p.csv", b"material,date,usd_per_kg,source\nNDPR-OX,2026-03-01,60,A\nNOPE,2026-03-01,1,A\n"
    )
    bad = client.post("/admin/financing/pricepoint/import/", {"file": upload})
    assert bad.status_code == 400 and "line 3" in str(bad.context["form"].errors["file"])
    assert not PricePoint.objects.exists()
    upload = SimpleUploadedFile("p.csv", b"material,date,usd_per_kg,source\nNDPR-OX,2026-03-01,60,A\n")
    assert client.post("/admin/financing/pricepoint/import/", {"file": upload}).status_code == 302
    assert PricePoint.objects.count() == 1
    assert client_for(manager).get("/admin/financing/pricepoint/import/").status_code == 403

    page = client_for(manager).get("/admin/financing/pricepoint/valuation/")
    assert page.status_code == 200
    valuation = page.context["valuation"]
    assert valuation.total_cost == Decimal("50000.00")
    assert valuation.total_market_value == Decimal("60000.00")
    assert 'id="total-unrealised">10000.00<' in page.content.decode()


def test_statement_page_reports_a_bad_range(client_for, auditor, loan):
    page = client_for(auditor).get(
        "/admin/financing/facility/LOAN-T/statement/?date_from=2026-05-01&date_to=2026-04-01"
    )
    assert page.status_code == 200
    assert "The statement ends before it starts." in page.content.decode()


def test_invalid_input_is_a_400_with_the_error_shown_and_nothing_written(client_for, finance, loan):
    """A field the form refuses and an amount the service refuses: both are the form again,
    400, the error shown on the field, no row written."""
    from tests.admin_pages import field_errors, nothing_written

    disbursed_tranche(facility=loan, amount="1000.00", on=date(2026, 3, 2), by=finance)
    client = client_for(finance)
    with nothing_written():
        parsed = client.post("/admin/financing/repayment/add/", {"facility": "LOAN-T", "amount": "x", "date": ""})
        refused = client.post(
            "/admin/financing/repayment/add/", {"facility": "LOAN-T", "amount": "1000.01", "date": "2026-03-03"}
        )
    assert parsed.status_code == refused.status_code == 400
    assert field_errors(parsed, "amount") == "Enter a number."
    assert field_errors(parsed, "date") == "This field is required."
    assert field_errors(refused, "amount").startswith("Only 1000.00 is outstanding on LOAN-T")


def test_a_price_point_delete_proposes_a_withdrawal(client_for, finance, material, monkeypatch):
    from vault.financing import services

    price = services.price_point_create(
        material=material, date=date(2026, 3, 1), usd_per_kg=Decimal("60"), source="A", by=finance
    )
    deleted = []
    real = services.price_point_withdraw
    monkeypatch.setattr(services, "price_point_withdraw", lambda **kw: deleted.append(kw["by"]) or real(**kw))
    response = client_for(finance).post(f"/admin/financing/pricepoint/{price.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert deleted == [finance]
    withdrawal = PricePoint.objects.get(supersedes=price)  # the price stays: a pending withdrawal supersedes it
    assert (withdrawal.withdrawn, withdrawal.status, withdrawal.version) == (True, "pending", 2)
