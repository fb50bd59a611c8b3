import json
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import LotFactory, MaterialFactory
from vault.coverage import services
from vault.coverage.models import ConsumptionForecast, CoverageRun, ForecastVersion
from vault.coverage.selectors import dashboard_data


@pytest.fixture
def checked(material, site, manager, set_forecast):
    """NDPR-OX ok, GA in warning, TB-OX in breach, checked twice."""
    LotFactory(material=material, site=site, initial_quantity="30000", by=manager)
    set_forecast(material, per_month="3000")
    warning = MaterialFactory(code="GA", coverage_target_days=100)
    LotFactory(material=warning, site=site, initial_quantity="1100", by=manager, mining_country="CN")
    set_forecast(warning, per_month="300")
    breach = MaterialFactory(code="TB-OX", coverage_target_days=90)
    LotFactory(material=breach, site=site, initial_quantity="100", by=manager)
    set_forecast(breach, per_month="100")
    services.coverage_check()
    services.coverage_check()


@pytest.fixture
def staff_client(client, manager):
    client.force_login(manager)
    return client


def test_admin_index_shows_the_dashboard_and_keeps_the_app_list(staff_client, checked):
    response = staff_client.get("/admin/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="coverage-dashboard"' in html
    assert 'id="content-main"' in html and "Coverage" in html  # the usual app list follows
    # Worst first, with the status written out, not colour alone.
    order = [html.index(f">{code}</a>") for code in ("TB-OX", "GA", "NDPR-OX")]
    assert order == sorted(order)
    for label in ("Breach", "Warning", "OK"):
        assert re.search(rf'class="vault-status vault-status-\w+">{label}<', html)
    # Chart.js and the chart script come from our static files, never a CDN.
    assert "vendor/chart.umd.min.js" in html and "coverage/dashboard.js" in html
    assert "cdn" not in html.lower()
    data = json.loads(re.search(r'id="coverage-chart-data"[^>]*>(.*?)</script>', html, re.S).group(1))
    assert [s["material"] for s in data["series"]] == ["TB-OX", "GA", "NDPR-OX"]
    assert data["series"][0]["target"] == 90 and data["series"][0]["warning"] == "108.0"
    assert len(data["labels"]) == 1 and len(data["series"][0]["points"]) == 1  # both checks ran today
    # A concentration flag names the country that dominates (GA is all mined in China).
    assert (
        'title="CN holds 100% of the usable stock by country of mining, above the concentration limit">CN 100%<' in html
    )
    # Open alerts.
    assert "Open alerts" in html and "TB-OX</li>" not in html


def test_dashboard_is_hidden_without_permission(client, maker_a):
    maker_a.is_staff = True
    maker_a.save()
    client.force_login(maker_a)
    response = client.get("/admin/")
    assert 'id="coverage-dashboard"' not in response.content.decode()


def test_dashboard_queries_do_not_grow(checked, site, manager, set_forecast):
    with CaptureQueriesContext(connection) as small:
        dashboard_data()
    for n in range(8):
        material = MaterialFactory(code=f"X-{n}")
        LotFactory(material=material, site=site, initial_quantity="10", by=manager)
        set_forecast(material, per_month="10", months=2)
    services.coverage_check()
    with CaptureQueriesContext(connection) as large:
        data = dashboard_data()
    assert len(data["snapshots"]) == 11
    assert len(small.captured_queries) == len(large.captured_queries) == 3


def test_chart_js_is_shipped_with_its_licence():
    path = finders.find("vendor/chart.umd.min.js")
    assert path and Path(path).read_text()[:200].find("Chart.js v4") != -1
    licence = Path(settings.BASE_DIR) / "vault/core/assets/vendor/chart.js.LICENSE.md"
    assert "MIT" in licence.read_text()
    assert finders.find("coverage/dashboard.js") and finders.find("coverage/dashboard.css")


def test_admin_forecast_upload(staff_client, material):
    url = "/admin/coverage/forecastversion/add/"
    assert staff_client.get(url).status_code == 200
    bad = SimpleUploadedFile("f.csv", b"material,month,quantity\nNDPR-OX,2026-7,1\n", "text/csv")
    response = staff_client.post(url, {"file": bad})
    html = response.content.decode()
    assert response.status_code == 400 and "row 2" in html and "YYYY-MM" in html
    assert not ForecastVersion.objects.exists()
    good = SimpleUploadedFile("f.csv", b"material,month,quantity\nNDPR-OX,2026-07,1\n", "text/csv")
    response = staff_client.post(url, {"file": good, "note": "July plan"})
    assert response.status_code == 302
    assert ConsumptionForecast.objects.get().version.note == "July plan"


@pytest.mark.parametrize(
    "url",
    [
        "/admin/coverage/coveragesnapshot/",
        "/admin/coverage/coveragerun/",
        "/admin/coverage/alert/",
        "/admin/coverage/consumptionforecast/",
        "/admin/coverage/inbound/",
        "/admin/coverage/forecastversion/",
    ],
)
def test_admin_lists_render(staff_client, checked, url):
    assert staff_client.get(url).status_code == 200


def test_admin_is_branded_as_project_vault(staff_client):
    html = staff_client.get("/admin/").content.decode()
    assert "<title>Operations dashboard | Project Vault</title>" in html
    assert "Project Vault</a></div>" in html or ">Project Vault</a>" in html


def test_manager_checks_coverage_now_from_the_dashboard(staff_client, checked):
    before = CoverageRun.objects.count()
    page = staff_client.get("/admin/").content.decode()
    assert 'action="/admin/coverage/coveragerun/check/"' in page and "Check coverage now" in page
    response = staff_client.post("/admin/coverage/coveragerun/check/", {"next": "/admin/"}, follow=True)
    assert response.redirect_chain == [("/admin/", 302)]
    assert CoverageRun.objects.count() == before + 1
    run = CoverageRun.objects.latest("id")
    assert run.trigger == "manual by manager1" and run.material_count == 3
    assert "Coverage checked for 3 materials" in response.content.decode()


def test_check_now_refuses_other_roles_get_and_foreign_redirects(client, finance, auditor, manager, checked):
    before = CoverageRun.objects.count()
    for user in (finance, auditor):
        client.force_login(user)
        assert "Check coverage now" not in client.get("/admin/").content.decode()
        assert client.post("/admin/coverage/coveragerun/check/").status_code == 403
    client.force_login(manager)
    assert client.get("/admin/coverage/coveragerun/check/").status_code == 405
    assert CoverageRun.objects.count() == before
    response = client.post("/admin/coverage/coveragerun/check/", {"next": "https://evil.example/"})
    assert response["Location"] == "/admin/"
