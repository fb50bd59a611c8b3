"""Data and logins shared by the browser tests. Data is built through the services, as in
production; each function returns what the tests assert on."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.utils import timezone

from tests.factories import LotFactory, MaterialFactory, days
from tests.financing.factories import disbursed_tranche, make_facility, make_private_capital
from vault.coverage import services as coverage_services
from vault.coverage.domain import month_start, next_month

PASSWORD = "pass-w0rd!"


def login_portal(page, username: str, password: str = PASSWORD) -> None:
    page.goto("/portal/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/portal/")


def flat_forecast(material, *, per_month: str, by, months: int = 24) -> None:
    rows, month = [], month_start(timezone.localdate())
    for _ in range(months):
        rows.append(
            coverage_services.ForecastRow(
                material_id=material.pk, organization_id=None, month=month, quantity=Decimal(per_month)
            )
        )
        month = next_month(month)
    coverage_services.forecast_upload(rows=rows, by=by, source="e2e")


def coverage_history(*, manager, material, site, history_days: int = 14) -> None:
    """`material` (a 1,000 kg lot is expected) plus GA and TB-OX with forecasts, checked once
    a day for `history_days` days: one OK, one warning, one breach, each with a line of points."""
    flat_forecast(material, per_month="300", by=manager)
    gallium = MaterialFactory(code="GA", name="Gallium", coverage_target_days=100)
    LotFactory(material=gallium, site=site, initial_quantity="1100", by=manager, mining_country="CN")
    flat_forecast(gallium, per_month="300", by=manager)
    terbium = MaterialFactory(code="TB-OX", name="Terbium oxide", coverage_target_days=90)
    LotFactory(material=terbium, site=site, initial_quantity="100", by=manager)
    flat_forecast(terbium, per_month="100", by=manager)
    for n in range(history_days - 1, -1, -1):
        coverage_services.coverage_check(today=days(-n), trigger="e2e")


def facilities(*, finance) -> None:
    """A 10B loan with 1.5B disbursed and a 500M private capital facility with 125M called."""
    loan = make_facility(by=finance, code="EXIM-E2E")
    capital = make_private_capital(by=finance, code="PC-E2E", commitment="500000000.00")
    disbursed_tranche(facility=loan, amount="1500000000.00", on=date(2026, 3, 2), by=finance)
    disbursed_tranche(facility=capital, amount="125000000.00", on=date(2026, 4, 1), by=finance)
