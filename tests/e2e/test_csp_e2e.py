"""The Content-Security-Policy in a real browser: the admin (dashboard with its chart, a
changelist, a change form with the admin's own scripts), the portal and Swagger UI run without a
single violation, and the policy really is enforced (an injected inline script is refused)."""

import re

import pytest

from tests.e2e.conftest import login_admin
from tests.e2e.helpers import coverage_history, facilities, login_portal
from tests.e2e.test_dashboard_e2e import CANVAS_PIXELS

pytestmark = pytest.mark.django_db(transaction=True)

# Every violation the page reports, kept on the window (the event fires on the document).
RECORD_VIOLATIONS = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__csp.push(e.violatedDirective + " " + (e.blockedURI || "inline") + " " + e.sourceFile + ":" + e.lineNumber);
});
"""


def watch(page) -> list[str]:
    """Console messages about the policy and violation events, gathered as the page runs."""
    console: list[str] = []
    page.add_init_script(RECORD_VIOLATIONS)
    page.on(
        "console",
        lambda message: console.append(message.text) if "Content Security Policy" in message.text else None,
    )
    return console


def violations(page, console: list[str]) -> list[str]:
    page.wait_for_load_state("networkidle")
    return console + page.evaluate("() => window.__csp")


def test_admin_pages_run_without_violations(new_page, manager, finance, lot, material, site):
    coverage_history(manager=manager, material=material, site=site)
    facilities(finance=finance)
    page = new_page()
    console = watch(page)
    login_admin(page, manager.username)
    # The dashboard: Chart.js (a static file) draws the chart from json_script data.
    page.wait_for_function("() => window.Chart && window.Chart.getChart('coverage-chart')")
    drawn = page.evaluate(CANVAS_PIXELS)
    assert drawn["url"] != drawn["blank"] and drawn["drawn"] > 2000
    # The headroom bars keep their width without an inline style.
    bar = page.locator("#facility-headroom tbody .vault-bar").first
    fill = page.locator("#facility-headroom tbody .vault-bar-fill").first
    assert 0.1 < fill.bounding_box()["width"] / bar.bounding_box()["width"] < 0.2
    assert violations(page, console) == []

    for path in [
        "/admin/inventory/lot/",
        f"/admin/inventory/lot/{lot.pk}/change/",
        "/admin/ledger/journalentry/",
        "/admin/two-factor/",  # the second factor's pages: tests/e2e/test_second_factor_e2e.py
    ]:
        page.goto(path)
        assert violations(page, console) == [], path
    # The admin's own scripts run: nav_sidebar.js folds the sidebar away.
    page.goto("/admin/inventory/lot/")
    shifted = "() => document.getElementById('main').classList.contains('shifted')"
    before = page.evaluate(shifted)
    page.locator("#toggle-nav-sidebar").click()
    assert page.evaluate(shifted) is not before
    assert violations(page, console) == []


def test_an_injected_inline_script_is_refused(new_page, manager):
    page = new_page()
    console = watch(page)
    login_admin(page, manager.username)
    # What an XSS would do: a script element written into the page. The policy blocks it.
    page.evaluate("""() => { const s = document.createElement("script");
      s.textContent = "window.__ran = true"; document.body.appendChild(s); }""")
    assert page.evaluate("() => window.__ran === true") is False
    assert any("script-src" in v for v in violations(page, console))


def test_portal_pages_run_without_violations(new_page, maker_a, agreement_a, lot):
    page = new_page()
    console = watch(page)
    page.goto("/portal/login/")
    assert violations(page, console) == []
    login_portal(page, maker_a.username)
    for path in ["/portal/", "/portal/requests/", "/portal/requests/new/"]:
        page.goto(path)
        assert violations(page, console) == [], path


def test_swagger_ui_runs_without_violations(new_page):
    page = new_page()
    console = watch(page)
    page.goto("/api/docs/")
    # Swagger UI fetched the schema and drew its operations.
    page.get_by_role("heading", name=re.compile("Vault API")).wait_for()
    assert page.locator(".opblock").count() > 10
    assert violations(page, console) == []
