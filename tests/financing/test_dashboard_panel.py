"""The facility-headroom panel of the admin dashboard: its figures, who sees it, its queries."""

import re
from datetime import date
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import UserFactory
from tests.financing.factories import disbursed_tranche, make_facility, make_private_capital
from vault.financing import services
from vault.financing.dashboard import facility_headroom

D = Decimal


@pytest.fixture
def facilities(finance, loan, capital):
    """LOAN-T: 10B, 1.5B disbursed, 250M repaid. PC-T: 500M, 125M called. OLD-T: 20M, 5M drawn,
    availability ended 2025-12-31."""
    disbursed_tranche(facility=loan, amount="1000000000.00", on=date(2026, 3, 2), by=finance)
    disbursed_tranche(facility=loan, amount="500000000.00", on=date(2026, 6, 1), by=finance)
    services.repayment_create(facility=loan, amount=D("250000000.00"), date=date(2026, 9, 1), by=finance)
    disbursed_tranche(facility=capital, amount="125000000.00", on=date(2026, 4, 1), by=finance)
    old = make_facility(
        by=finance,
        code="OLD-T",
        commitment=D("20000000.00"),
        available_from=date(2024, 1, 1),
        available_until=date(2025, 12, 31),
        maturity_date=date(2030, 1, 1),
    )
    disbursed_tranche(facility=old, amount="5000000.00", on=date(2025, 6, 2), by=finance)
    return loan, capital, old


def _panel(html: str) -> str:
    match = re.search(r'<section[^>]*id="facility-headroom".*?</section>', html, re.S)
    assert match, "the facility-headroom panel is missing"
    return match.group(0)


def _cells(row_html: str) -> list[str]:
    return [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row_html, re.S)]


def _rows(panel: str) -> dict[str, list[str]]:
    """{first cell: cells} of the panel's body and footer rows."""
    rows = {}
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", panel.split("</thead>")[1], re.S):
        cells = _cells(row)
        rows[cells[0].split()[0]] = cells[1:]
    return rows


def test_headroom_per_facility_and_totals_in_one_query(facilities):
    with CaptureQueriesContext(connection) as queries:
        headroom = facility_headroom(today=date(2026, 11, 23))
    assert len(queries.captured_queries) == 1
    figures = {
        f.code: (f.commitment, f.disbursed, f.outstanding, f.undrawn, f.percent_drawn, f.available)
        for f in headroom.facilities
    }
    assert figures == {
        "LOAN-T": (D("10000000000.00"), D("1500000000.00"), D("1250000000.00"), D("8500000000.00"), D("15.0"), True),
        "OLD-T": (D("20000000.00"), D("5000000.00"), D("5000000.00"), D("15000000.00"), D("25.0"), False),
        "PC-T": (D("500000000.00"), D("125000000.00"), D("125000000.00"), D("375000000.00"), D("25.0"), True),
    }
    assert [f.code for f in headroom.facilities] == ["LOAN-T", "OLD-T", "PC-T"]
    assert headroom.commitment == D("10520000000.00")
    assert headroom.disbursed == D("1630000000.00")
    assert headroom.outstanding == D("1380000000.00")
    assert headroom.undrawn == D("8890000000.00")
    assert headroom.undrawn_available == D("8875000000.00")
    assert headroom.percent_drawn == D("15.5")  # 1.63B / 10.52B = 15.49...%


def test_finance_sees_each_facility_and_the_totals(client, finance, facilities):
    client.force_login(finance)
    response = client.get("/admin/")
    assert response.status_code == 200
    panel = _panel(response.content.decode())
    rows = _rows(panel)
    # Millions of dollars, one decimal.
    assert rows["LOAN-T"][:5] == ["10,000.0", "1,500.0", "1,250.0", "8,500.0", "15.0%"]
    assert rows["PC-T"][:5] == ["500.0", "125.0", "125.0", "375.0", "25.0%"]
    assert rows["OLD-T"][5] == "2025-12-31 not available today"
    assert rows["Total"][:5] == ["10,520.0", "1,630.0", "1,380.0", "8,890.0", "15.5%"]
    # The bar's width is the percentage drawn; the text says it too (the bar is decorative).
    assert '<rect class="vault-bar-fill" width="15.0%" height="100%"/></svg> 15.0%' in panel
    assert "8,875.0 USD m can still be drawn today" in panel
    loan = facilities[0]
    assert f'href="/admin/financing/facility/{loan.pk}/change/">LOAN-T</a>' in panel


@pytest.mark.parametrize(
    ("amount", "shown"),
    [("0.00", "0.0"), ("49999.99", "0.0"), ("50000.00", "0.1"), ("1234567890.12", "1,234.6"), ("1e10", "10,000.0")],
)
def test_amounts_show_in_millions_rounded_half_up(amount, shown):
    from vault.financing.templatetags.financing_dashboard import usd_millions

    assert usd_millions(D(amount)) == shown


def test_no_facility_yet(client, finance):
    client.force_login(finance)
    assert "No facility yet." in _panel(client.get("/admin/").content.decode())


@pytest.mark.parametrize("role", ["finance", "auditor"])
def test_roles_that_view_facilities_see_the_panel(client, role, request, facilities):
    client.force_login(request.getfixturevalue(role))
    assert 'id="facility-headroom"' in client.get("/admin/").content.decode()


def test_staff_without_view_permission_on_facilities_do_not_see_it(client, facilities):
    clerk = UserFactory(username="clerk", role="", is_staff=True)
    group = Group.objects.create(name="queue readers")
    group.permissions.add(Permission.objects.get(codename="view_drawdownrequest"))
    clerk.groups.add(group)
    client.force_login(clerk)
    html = client.get("/admin/").content.decode()
    assert 'id="facility-headroom"' not in html
    assert 'id="review-queue"' in html


def test_admin_index_queries_stay_constant_as_facilities_grow(client, finance, facilities):
    client.force_login(finance)
    client.get("/admin/")  # warm caches (content types, permissions) before counting
    with CaptureQueriesContext(connection) as small:
        client.get("/admin/")
    for n in range(8):
        facility = make_private_capital(by=finance, code=f"PC-{n}", commitment="1000000.00")
        disbursed_tranche(facility=facility, amount="250000.00", on=date(2026, 5, 4), by=finance)
    with CaptureQueriesContext(connection) as large:
        response = client.get("/admin/")
    rows = _rows(_panel(response.content.decode()))
    assert len(rows) == 3 + 8 + 1
    assert rows["PC-7"][4] == "25.0%"
    assert len(large.captured_queries) == len(small.captured_queries)
