from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.factories import LotFactory, MaterialFactory
from vault.coverage import services
from vault.coverage.models import Alert, ConsumptionForecast, CoverageRun, CoverageSnapshot, ForecastVersion, Inbound
from vault.drawdowns.models import ParticipationAgreement

D = Decimal


@pytest.fixture
def world(material, site, manager, set_forecast, org_a):
    """NDPR-OX (entitled to ORG-A) ok; DY-OX (not entitled) in breach; two checks run."""
    LotFactory(material=material, site=site, initial_quantity="3000", by=manager)
    set_forecast(material, per_month="300")
    other = MaterialFactory(code="DY-OX", coverage_target_days=90)
    LotFactory(material=other, site=site, initial_quantity="100", by=manager, mining_country="CN")
    set_forecast(other, per_month="100")
    ParticipationAgreement.objects.create(
        organization=org_a, material=material, quantity=D("500"), locked_price=D("80"), replenishment_days=90
    )
    services.coverage_check()
    services.coverage_check()
    return material, other


def results(response):
    assert response.status_code == 200, response.content
    return response.json()["results"]


# --- coverage -------------------------------------------------------------------------------------


def test_coverage_list_is_the_latest_snapshot_per_material_worst_first(api, auditor, world):
    rows = results(api(auditor).get("/api/v1/coverage/"))
    assert [r["material"] for r in rows] == ["DY-OX", "NDPR-OX"]
    latest = CoverageSnapshot.objects.filter(material__code="DY-OX").latest("id")
    row = rows[0]
    assert row["id"] == latest.pk
    assert row["status"] == "breach" and row["target_days"] == 90
    assert row["usable_stock"] == "100.000"
    assert row["forward_days"] == str(latest.forward_days)
    assert row["beyond_horizon"] is False
    assert row["depletion_date"] == latest.depletion_date.isoformat()
    assert row["trailing_days"] is None
    assert row["mining_shares"] == {"CN": "1.0000"} and row["china_mining_share"] == "1.0000"
    assert row["concentration_flagged"] is True
    assert set(row) >= {"material", "usable_stock", "forward_days", "beyond_horizon", "depletion_date"}


def test_coverage_filters_and_detail(api, finance, world):
    assert [r["material"] for r in results(api(finance).get("/api/v1/coverage/?status=ok"))] == ["NDPR-OX"]
    response = api(finance).get("/api/v1/coverage/NDPR-OX/")
    assert response.status_code == 200 and response.json()["material"] == "NDPR-OX"
    assert api(finance).get("/api/v1/coverage/NOPE/").status_code == 404
    assert api(finance).get("/api/v1/coverage/A%00B/history/").status_code == 404  # never reaches the database
    assert api(finance).get("/api/v1/coverage/?material=A%00B").status_code == 400


def test_history_is_newest_first_and_paginated(api, manager, world):
    rows = results(api(manager).get("/api/v1/coverage/NDPR-OX/history/?page_size=1"))
    assert len(rows) == 1
    body = api(manager).get("/api/v1/coverage/NDPR-OX/history/").json()
    assert [r["run"] for r in body["results"]] == list(CoverageRun.objects.order_by("-id").values_list("id", flat=True))
    today = timezone.localdate()
    assert results(api(manager).get(f"/api/v1/coverage/NDPR-OX/history/?date_from={today + timedelta(days=1)}")) == []


def test_manufacturer_sees_only_entitled_materials(api, maker_a, maker_b, world):
    assert [r["material"] for r in results(api(maker_a).get("/api/v1/coverage/"))] == ["NDPR-OX"]
    assert api(maker_a).get("/api/v1/coverage/DY-OX/").status_code == 404
    assert api(maker_a).get("/api/v1/coverage/DY-OX/history/").status_code == 404
    assert api(maker_a).get("/api/v1/coverage/NDPR-OX/history/").status_code == 200
    assert results(api(maker_b).get("/api/v1/coverage/")) == []
    assert {r["material"] for r in results(api(maker_a).get("/api/v1/forecasts/"))} == {"NDPR-OX"}
    assert results(api(maker_a).get("/api/v1/alerts/")) == []  # DY-OX's alert is not theirs
    assert api(maker_a).get("/api/v1/inbound/").status_code == 403
    assert api(maker_a).post("/api/v1/coverage/scenario/", {}).status_code == 403


def test_anonymous_is_refused(api, world):
    for url in ["/api/v1/coverage/", "/api/v1/forecasts/", "/api/v1/inbound/", "/api/v1/alerts/"]:
        assert api(None).get(url).status_code in (401, 403)


def _count(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def _more_materials(count, site, manager, set_forecast, org_a):
    for n in range(count):
        material = MaterialFactory(code=f"MORE-{n}")
        LotFactory(material=material, site=site, initial_quantity="50", by=manager)
        set_forecast(material, per_month="100", months=2)
        services.inbound_create(
            by=manager, material=material, quantity=D("5"), expected_date=timezone.localdate() + timedelta(days=3)
        )
        ParticipationAgreement.objects.create(
            organization=org_a, material=material, quantity=D("5"), locked_price=D("1"), replenishment_days=30
        )
    services.coverage_check()


@pytest.mark.parametrize("who", ["manager", "maker_a"])
def test_list_query_counts_do_not_grow(api, request, world, site, manager, set_forecast, org_a, who):
    user = request.getfixturevalue(who)
    client = api(user)
    urls = ["/api/v1/coverage/", "/api/v1/forecasts/", "/api/v1/alerts/", "/api/v1/coverage/NDPR-OX/history/"]
    if who == "manager":
        urls += ["/api/v1/inbound/", "/api/v1/forecast-versions/"]
    before = {url: _count(client, url) for url in urls}
    _more_materials(6, site, manager, set_forecast, org_a)
    after = {url: _count(client, url) for url in urls}
    assert before == after


# --- scenario and check -----------------------------------------------------------------------------


def test_scenario_returns_figures_and_saves_nothing(api, finance, world):
    runs, snapshots = CoverageRun.objects.count(), CoverageSnapshot.objects.count()
    body = (
        api(finance)
        .post(
            "/api/v1/coverage/scenario/",
            {
                "materials": ["NDPR-OX"],
                "demand_change_pct": "50",
                "inbound_cut_pct": "100",
                "extra_drawdowns": [{"material": "NDPR-OX", "quantity": "1000"}],
            },
            format="json",
        )
        .json()
    )
    assert body["demand_change_pct"] == "50.00"
    [row] = body["results"]
    assert row["material"] == "NDPR-OX" and row["usable_stock"] == "2000.000"
    baseline = CoverageSnapshot.objects.filter(material__code="NDPR-OX").latest("id")
    assert D(row["forward_days"]) < baseline.forward_days / 2
    assert set(row) >= {
        "material",
        "usable_stock",
        "forward_days",
        "beyond_horizon",
        "depletion_date",
        "trailing_days",
        "target_days",
        "status",
    }
    assert (CoverageRun.objects.count(), CoverageSnapshot.objects.count()) == (runs, snapshots)


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"materials": ["NOPE"]}, "materials"),
        ({"demand_change_pct": "-150"}, "demand_change_pct"),
        ({"inbound_cut_pct": "120"}, "inbound_cut_pct"),
        ({"extra_drawdowns": [{"material": "NDPR-OX", "quantity": "0"}]}, "extra_drawdowns"),
    ],
)
def test_scenario_errors(api, manager, world, payload, field):
    response = api(manager).post("/api/v1/coverage/scenario/", payload, format="json")
    assert response.status_code == 400
    assert field in response.json()["errors"]


def test_manager_runs_a_check_others_cannot(api, manager, auditor, world):
    response = api(manager).post("/api/v1/coverage/check/", {"materials": ["DY-OX"]}, format="json")
    assert response.status_code == 201 and response.json()["material_count"] == 1
    assert api(auditor).post("/api/v1/coverage/check/", {}, format="json").status_code == 403
    assert api(manager).post("/api/v1/coverage/check/", {"materials": ["NOPE"]}, format="json").status_code == 400


# --- forecasts ----------------------------------------------------------------------------------------


def test_post_one_forecast_row(api, manager, world, org_a):
    response = api(manager).post(
        "/api/v1/forecasts/",
        {"material": "NDPR-OX", "month": "2030-01", "quantity": "12.5", "organization": "ORG-A"},
        format="json",
    )
    assert response.status_code == 201, response.content
    version = ForecastVersion.objects.get(pk=response.json()["id"])
    assert version.source == "api" and version.row_count == 1 and version.created_by == manager
    row = results(api(manager).get("/api/v1/forecasts/?month=2030-01&organization=ORG-A"))[0]
    assert row == {
        "id": row["id"],
        "version": version.pk,
        "material": "NDPR-OX",
        "organization": "ORG-A",
        "month": "2030-01",
        "quantity": "12.500",
        "current": True,
        "superseded_by": None,
    }


def test_post_forecast_row_errors(api, manager, world):
    response = api(manager).post(
        "/api/v1/forecasts/", {"material": "NOPE", "month": "2030-13", "quantity": "-1"}, format="json"
    )
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"material", "month", "quantity"}


def test_upload_csv_file(api, manager, world):
    data = b"material,month,quantity\nNDPR-OX,2031-01,10\nDY-OX,2031-01,5\n"
    response = api(manager).post(
        "/api/v1/forecasts/", {"file": SimpleUploadedFile("plan.csv", data, "text/csv")}, format="multipart"
    )
    assert response.status_code == 201, response.content
    assert response.json()["source"] == "csv:plan.csv" and response.json()["row_count"] == 2
    # The upload replaced the current forecast of both materials.
    assert ConsumptionForecast.objects.filter(superseded_by__isnull=True).count() == 2


def test_upload_csv_with_row_errors_is_all_or_nothing(api, manager, world):
    before = ConsumptionForecast.objects.count()
    data = b"material,month,quantity\nNDPR-OX,2031-01,10\nNDPR-OX,2031-02,-3\n"
    response = api(manager).post(
        "/api/v1/forecasts/", {"file": SimpleUploadedFile("plan.csv", data, "text/csv")}, format="multipart"
    )
    assert response.status_code == 400
    assert response.json() == {
        "code": "invalid_rows",
        "detail": "1 row(s) have errors; nothing was imported.",
        "errors": {"row 3": {"quantity": ["Quantity must not be negative."]}},
    }
    assert ConsumptionForecast.objects.count() == before


def test_superseded_rows_are_listed_on_request(api, auditor, world):
    current = len(results(api(auditor).get("/api/v1/forecasts/?material=NDPR-OX&page_size=100")))
    assert current == 24
    every = results(api(auditor).get("/api/v1/forecasts/?material=NDPR-OX&include_superseded=true&page_size=100"))
    assert len(every) == 24  # one version only so far
    assert api(auditor).get("/api/v1/forecasts/?month=July").status_code == 400


def test_only_managers_write_forecasts(api, finance, auditor, maker_a, world):
    row = {"material": "NDPR-OX", "month": "2030-01", "quantity": "1"}
    for user in (finance, auditor, maker_a):
        assert api(user).post("/api/v1/forecasts/", row, format="json").status_code == 403


# --- inbound ------------------------------------------------------------------------------------------


def test_inbound_crud(api, manager, finance, world):
    day = (timezone.localdate() + timedelta(days=10)).isoformat()
    response = api(manager).post(
        "/api/v1/inbound/", {"material": "NDPR-OX", "quantity": "250", "expected_date": day}, format="json"
    )
    assert response.status_code == 201, response.content
    pk = response.json()["id"]
    assert response.json()["created_by"] == manager.username and response.json()["confirmed"] is True
    response = api(manager).patch(f"/api/v1/inbound/{pk}/", {"quantity": "300"}, format="json")
    assert response.status_code == 200 and response.json()["quantity"] == "300.000"
    assert results(api(finance).get("/api/v1/inbound/?material=NDPR-OX"))[0]["id"] == pk
    assert api(finance).patch(f"/api/v1/inbound/{pk}/", {"quantity": "1"}, format="json").status_code == 403
    assert api(manager).delete(f"/api/v1/inbound/{pk}/").status_code == 204
    assert not Inbound.objects.exists()


def test_inbound_in_the_past_is_refused(api, manager, world):
    day = (timezone.localdate() - timedelta(days=1)).isoformat()
    response = api(manager).post(
        "/api/v1/inbound/", {"material": "NDPR-OX", "quantity": "250", "expected_date": day}, format="json"
    )
    assert response.status_code == 400 and "expected_date" in response.json()["errors"]


# --- alerts -------------------------------------------------------------------------------------------


def test_alerts_list_and_filters(api, auditor, world):
    rows = results(api(auditor).get("/api/v1/alerts/?open=true"))
    assert [(r["material"], r["level"], r["is_open"]) for r in rows] == [("DY-OX", "breach", True)]
    Alert.objects.update(resolved_at=timezone.now())
    assert results(api(auditor).get("/api/v1/alerts/?open=true")) == []
    assert len(results(api(auditor).get("/api/v1/alerts/?open=false"))) == 1
