"""The admin's "Controls in force": every control the apps register, with its setting and its
value now, for every staff role."""

from datetime import date

import pytest

from vault.ledger.services import period_close

pytestmark = pytest.mark.django_db


def test_staff_see_each_control_its_setting_and_its_value(client, auditor, finance, settings):
    settings.VAULT_DISBURSEMENT_SECOND_APPROVAL_USD = "25000000.00"
    period_close(through=date(2026, 3, 31), by=finance)
    client.force_login(auditor)
    assert 'href="/admin/controls/"' in client.get("/admin/").content.decode()
    page = client.get("/admin/controls/")
    assert page.status_code == 200
    html = page.content.decode()
    for expected in (
        "Period close",
        "closed through 2026-03-31",
        "Manual journal entries",
        "VAULT_DISBURSEMENT_SECOND_APPROVAL_USD",
        "25,000,000.00 USD",
        "VAULT_DRAWDOWN_SECOND_APPROVAL_KG",
        "above 5,000 kg or 350,000 USD",
        "Hash chain",
    ):
        assert expected in html, expected


def test_the_page_needs_a_staff_login(client, maker_a):
    assert client.get("/admin/controls/").status_code == 302
    client.force_login(maker_a)
    assert client.get("/admin/controls/").status_code == 302
