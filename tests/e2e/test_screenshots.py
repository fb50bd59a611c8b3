"""README screenshots, made from the demo data (`seed_demo`) in a real browser. Not part of the
suite: the test exists only when VAULT_SCREENSHOTS=1, so a normal run neither collects nor skips
it. Writes docs/img/dashboard.png, docs/img/portal.png and docs/img/portal-request.png:

    VAULT_SCREENSHOTS=1 DATABASE_URL=postgres://... .venv/bin/pytest --ds=config.settings.test \
        tests/e2e/test_screenshots.py -p no:randomly
"""

import os
from pathlib import Path

import pytest

IMAGES = Path(__file__).resolve().parents[2] / "docs" / "img"

if os.environ.get("VAULT_SCREENSHOTS") == "1":
    from django.core.management import call_command

    from tests.e2e.conftest import login_admin
    from tests.e2e.helpers import login_portal
    from vault.accounts.demo import DEMO_PASSWORD
    from vault.drawdowns.models import DrawdownRequest, ReplenishmentObligation

    @pytest.mark.django_db(transaction=True)
    def test_readme_screenshots(browser, live_server):
        call_command("seed_demo", stdout=open(os.devnull, "w"))  # noqa: SIM115 - closed with the process
        IMAGES.mkdir(parents=True, exist_ok=True)

        def page_for(width: int, height: int):
            context = browser.new_context(
                base_url=live_server.url, viewport={"width": width, "height": height}, color_scheme="light"
            )
            context.set_default_timeout(15_000)
            return context, context.new_page()

        # The stockpile manager's dashboard: coverage table and chart, alerts, review queue,
        # facility headroom (the app list below is cut off).
        context, page = page_for(1440, 900)
        login_admin(page, "manager", DEMO_PASSWORD)
        page.wait_for_function("() => window.Chart && window.Chart.getChart('coverage-chart')")
        dashboard = page.locator(".vault-dashboard")
        box = dashboard.bounding_box()
        page.set_viewport_size({"width": 1440, "height": int(box["y"] + box["height"] + 16)})
        page.screenshot(path=str(IMAGES / "dashboard.png"), full_page=False)
        context.close()

        # A manufacturer with an open obligation: its portal dashboard and that request.
        obligation = (
            ReplenishmentObligation.objects.filter(status=ReplenishmentObligation.Status.OPEN)
            .select_related("request__requested_by")
            .order_by("id")
            .first()
        )
        request = obligation.request
        assert request.status == DrawdownRequest.Status.FULFILLED
        context, page = page_for(1280, 800)
        login_portal(page, request.requested_by.username, DEMO_PASSWORD)
        page.screenshot(path=str(IMAGES / "portal.png"), full_page=True)
        page.goto(f"/portal/requests/{request.pk}/")
        page.screenshot(path=str(IMAGES / "portal-request.png"), full_page=True)
        context.close()

        for name in ("dashboard.png", "portal.png", "portal-request.png"):
            assert (IMAGES / name).stat().st_size > 20_000, name
