"""The operations dashboard (admin index) in a browser: the coverage chart is really drawn and
the review-queue and facility-headroom panels show their figures."""

import pytest

from tests.e2e.conftest import login_admin
from tests.e2e.helpers import coverage_history, facilities
from tests.factories import days
from vault.drawdowns import services as drawdown_services
from vault.drawdowns.models import DrawdownRequest

pytestmark = pytest.mark.django_db(transaction=True)

# The chart's canvas as a PNG data URL, the same for a blank canvas of the same size, and the
# number of pixels drawn (alpha > 0).
CANVAS_PIXELS = """() => {
  const canvas = document.getElementById("coverage-chart");
  const blank = document.createElement("canvas");
  blank.width = canvas.width;
  blank.height = canvas.height;
  const data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
  let drawn = 0;
  for (let i = 3; i < data.length; i += 4) { if (data[i] > 0) drawn++; }
  return {width: canvas.width, height: canvas.height, url: canvas.toDataURL(), blank: blank.toDataURL(), drawn};
}"""


@pytest.fixture
def dashboard_data(lot, manager, finance, material, site, agreement_a, agreement_b, maker_a, maker_b):
    coverage_history(manager=manager, material=material, site=site)
    for user, quantity, priority in [(maker_a, "100", "defense-rated"), (maker_b, "40", "routine")]:
        drawdown_services.drawdown_create(
            by=user,
            material=material,
            quantity=quantity,
            needed_by=days(10),
            replenish_by=days(40),
            priority=priority,
            submit=True,
        )
    facilities(finance=finance)


def test_manager_sees_the_coverage_chart_drawn_and_the_panels(new_page, manager, dashboard_data):
    page = new_page()
    login_admin(page, manager.username)
    page.wait_for_function("() => window.Chart && window.Chart.getChart('coverage-chart')")

    # Coverage table: worst first, status written out.
    rows = page.locator("#coverage-dashboard .vault-coverage-table tbody tr")
    assert [rows.nth(i).locator("th").inner_text() for i in range(rows.count())] == ["TB-OX", "GA", "NDPR-OX"]
    assert [rows.nth(i).locator(".vault-status").inner_text() for i in range(3)] == ["Breach", "Warning", "OK"]

    # The chart is drawn: lines and axes on a canvas of real size, not a blank one.
    first = page.evaluate(CANVAS_PIXELS)
    assert first["width"] > 300 and first["height"] > 200
    assert first["url"] != first["blank"]
    assert len(first["url"]) > 3 * len(first["blank"])
    assert first["drawn"] > 2000
    chart = page.evaluate(
        "() => { const c = Chart.getChart('coverage-chart');"
        " return {labels: c.data.labels.length, sets: c.data.datasets.map(d => d.label)}; }"
    )
    assert chart["labels"] == 14
    assert chart["sets"] == ["TB-OX forward coverage (days)", "Target (90 days)", "Warning band (108.0 days)"]
    # Choosing another material redraws the chart with that material's series.
    select = page.get_by_label("Coverage days over time:")
    assert select.locator("option").all_inner_texts() == ["TB-OX (breach)", "GA (warning)", "NDPR-OX (ok)"]
    select.select_option(label="GA (warning)")
    assert page.evaluate("() => Chart.getChart('coverage-chart').data.datasets[1].label") == "Target (100 days)"
    assert page.evaluate(CANVAS_PIXELS)["url"] != first["url"]

    # Review queue: two requests awaiting review, one defense-rated.
    queue = page.get_by_role("region", name="Review queue")
    assert queue.locator("#review-queue-awaiting").inner_text() == "2"
    assert queue.locator("#review-queue-prioritised").inner_text() == "1"
    assert DrawdownRequest.objects.filter(status="submitted").count() == 2

    # Facility headroom: per facility and in total, the bar as wide as the share drawn.
    headroom = page.get_by_role("region", name="Facility headroom")
    loan = headroom.get_by_role("row", name="EXIM-E2E Loan")
    assert loan.get_by_role("cell").nth(3).inner_text() == "8,500.0"
    assert loan.get_by_role("cell").nth(4).inner_text().strip() == "15.0%"
    total = headroom.locator("tfoot tr")
    assert total.get_by_role("cell").nth(3).inner_text() == "8,875.0"
    bar = loan.locator(".vault-bar")
    fill = loan.locator(".vault-bar-fill")
    ratio = fill.bounding_box()["width"] / bar.bounding_box()["width"]
    assert 0.12 < ratio < 0.18
