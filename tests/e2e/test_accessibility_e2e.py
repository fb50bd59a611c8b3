"""Accessibility: axe-core finds no violation (any impact: WCAG 2 A/AA and best practices) on
the portal's dashboard and request form (also with its errors shown) and on the admin dashboard
in the light and dark themes; every aria-describedby points at an element; and the request
form can be filled and sent with the keyboard alone.

No rule or selector is excluded: the admin pages checked here raise no violation from Django's
own markup (checked with axe-core as bundled by axe-playwright-python 0.1.8)."""

import re
from decimal import Decimal

import pytest
from axe_playwright_python.sync_playwright import Axe

from tests.e2e.conftest import login_admin
from tests.e2e.helpers import coverage_history, facilities, login_portal
from tests.factories import days
from vault.drawdowns import services
from vault.drawdowns.models import DrawdownRequest

pytestmark = pytest.mark.django_db(transaction=True)

AXE = Axe()

# Ids named by aria-describedby / aria-labelledby that no element carries.
DANGLING_REFERENCES = """() => {
  const missing = [];
  for (const el of document.querySelectorAll("[aria-describedby], [aria-labelledby]")) {
    for (const attr of ["aria-describedby", "aria-labelledby"]) {
      for (const id of (el.getAttribute(attr) || "").split(/\\s+/).filter(Boolean)) {
        if (!document.getElementById(id)) missing.push(`${el.id || el.tagName}: ${attr}=${id}`);
      }
    }
  }
  return missing;
}"""


def assert_accessible(page, where: str) -> None:
    results = AXE.run(page)
    report = "\n".join(
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes'][:5]]}"
        for v in results.response["violations"]
    )
    assert results.violations_count == 0, f"axe on {where}:\n{report}"
    assert len(results.response["passes"]) > 20, "axe ran its rules"  # a run that checked nothing proves nothing
    assert page.evaluate(DANGLING_REFERENCES) == [], where


@pytest.fixture
def portal_world(lot, manager, material, agreement_a, agreement_b, maker_a):
    """ORG-A entitled to 500 kg of NDPR-OX; one request fulfilled (an open obligation), one submitted."""
    drawn = services.drawdown_create(
        by=maker_a, material=material, quantity="100", needed_by=days(10), replenish_by=days(40), submit=True
    )
    services.drawdown_approve(request=drawn, by=manager)
    services.drawdown_fulfil(request=drawn, by=manager)
    services.drawdown_create(
        by=maker_a, material=material, quantity="25", needed_by=days(20), replenish_by=days(50), submit=True
    )


def test_portal_dashboard_and_request_form_have_no_violations(new_page, maker_a, portal_world):
    page = new_page()
    login_portal(page, maker_a.username)
    assert page.get_by_role("region", name="Open replenishment obligations").locator("tbody tr").count() == 1
    assert_accessible(page, "portal dashboard")

    page.goto("/portal/requests/new/")
    assert_accessible(page, "portal request form")
    # Help text is announced with its field (Django points aria-describedby at <id>_helptext).
    quantity = page.get_by_label("Quantity (kg)")
    assert quantity.get_attribute("aria-describedby") == "id_quantity_helptext"
    assert page.locator("#id_quantity_helptext").inner_text() == "Up to your remaining entitlement."

    # Sent empty: the errors are shown, announced, and tied to their fields.
    page.get_by_role("button", name="Submit request").click()
    assert page.get_by_role("alert").inner_text().startswith("Please correct the errors below.")
    material = page.get_by_label("Material")
    assert material.get_attribute("aria-invalid") == "true"
    assert material.get_attribute("aria-describedby") == "id_material_helptext id_material_error"
    assert page.locator("#id_material_error").inner_text() == "This field is required."
    assert_accessible(page, "portal request form with errors")


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_admin_dashboard_has_no_violations(new_page, theme, lot, manager, finance, material, site, portal_world):
    coverage_history(manager=manager, material=material, site=site, history_days=5)
    facilities(finance=finance)
    page = new_page()
    page.emulate_media(color_scheme=theme)
    login_admin(page, manager.username)
    page.wait_for_function("() => window.Chart && window.Chart.getChart('coverage-chart')")
    for panel in ("Coverage days", "Review queue", "Facility headroom"):
        assert page.get_by_role("region", name=panel).is_visible()
    assert page.locator(".vault-flag").count() >= 1  # the concentration flag is on the page and checked
    assert_accessible(page, f"admin dashboard ({theme})")


def _tab_to(page, element_id: str, limit: int = 40) -> None:
    """Press Tab until the element with `element_id` has the focus."""
    for _ in range(limit):
        if page.evaluate("() => document.activeElement && document.activeElement.id") == element_id:
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached #{element_id}")


def test_request_form_works_with_the_keyboard_alone(new_page, maker_a, portal_world):
    page = new_page()
    login_portal(page, maker_a.username)
    page.goto("/portal/requests/new/")
    # The first Tab reaches the skip link, which becomes visible and jumps to the content.
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    assert skip.evaluate("el => el === document.activeElement") and skip.is_visible()

    _tab_to(page, "id_material")
    page.keyboard.type("NDPR")  # a closed select picks the option typed
    _tab_to(page, "id_quantity")
    page.keyboard.type("42.5")
    _tab_to(page, "id_needed_by")
    needed_by = days(12)
    page.keyboard.type(needed_by.strftime("%m%d%Y"))  # Chromium's date field, en-US order
    _tab_to(page, "id_priority")
    page.keyboard.type("Defense")
    _tab_to(page, "id_replenish_by")
    replenish_by = days(45)
    page.keyboard.type(replenish_by.strftime("%m%d%Y"))
    _tab_to(page, "id_justification")
    page.keyboard.type("Typed without a mouse")
    page.keyboard.press("Tab")
    submit = page.get_by_role("button", name="Submit request")
    assert submit.evaluate("el => el === document.activeElement")
    # The focus is visible (portal.css draws a 3px outline).
    assert submit.evaluate("el => getComputedStyle(el).outlineStyle") != "none"
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/portal/requests/\d+/$"))
    assert "submitted for review" in page.get_by_role("status").inner_text()

    created = DrawdownRequest.objects.get(pk=int(re.search(r"/requests/(\d+)/$", page.url).group(1)))
    assert created.organization_id == maker_a.organization_id
    assert (created.quantity, created.needed_by, created.replenish_by) == (Decimal("42.5"), needed_by, replenish_by)
    assert (created.priority, created.status) == ("defense-rated", "submitted")
    assert created.justification == "Typed without a mouse"


def test_the_second_factor_pages_have_no_violations(new_page, manager, finance, settings):
    """The admin login's code step, enrolment (QR code, secret, code) and the backup codes."""
    from base64 import b32decode

    from django_otp.oath import totp

    from tests.second_factor import totp_device

    settings.VAULT_STAFF_OTP_REQUIRED = True
    totp_device(manager)
    page = new_page()
    page.goto("/admin/login/")
    page.get_by_label("Username").fill(manager.username)
    page.get_by_label("Password").fill("pass-w0rd!")
    page.get_by_role("button", name="Log in").click()
    page.get_by_label("Code from your authenticator app").wait_for()
    assert_accessible(page, "admin login, code step")

    page = new_page()
    page.goto("/admin/login/")
    page.get_by_label("Username").fill(finance.username)
    page.get_by_label("Password").fill("pass-w0rd!")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/admin/two-factor/setup/")
    assert_accessible(page, "enrolment")
    secret = page.locator("#otp-secret").inner_text().replace(" ", "")
    page.get_by_label("Code from your authenticator app").fill(f"{totp(b32decode(secret)):06d}")
    page.get_by_role("button", name="Confirm").click()
    page.locator("#backup-codes").wait_for()
    assert_accessible(page, "backup codes")
    page.goto("/admin/two-factor/")
    assert_accessible(page, "second factor page")
