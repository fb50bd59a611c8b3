from decimal import Decimal

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import login_admin
from vault.inventory.models import Position

pytestmark = pytest.mark.django_db(transaction=True)


def test_manager_records_a_receipt_and_sees_the_position_change(new_page, manager, lot):
    page = new_page()
    login_admin(page, manager.username)
    page.goto(f"/admin/inventory/lot/{lot.pk}/change/")
    page.get_by_role("link", name="Record a movement").click()
    page.get_by_label("Kind").select_option("receipt")
    page.get_by_label("Lot").select_option(str(lot.pk))
    page.get_by_label("Quantity").fill("250")
    page.get_by_label("Reason").fill("Second shipment")
    page.get_by_role("button", name="Record movement").click()
    page.wait_for_url(f"**/admin/inventory/lot/{lot.pk}/change/")
    assert "now holds 1250.000 kg" in page.content()
    page.goto("/admin/inventory/position/")
    row = page.locator("#result_list tbody tr").first
    assert "1250" in row.inner_text()
    assert Position.objects.get(material=lot.material, site=lot.site).on_hand == Decimal("1250")


def test_bad_quantity_shows_a_field_error_and_writes_nothing(new_page, manager, lot):
    page = new_page()
    login_admin(page, manager.username)
    page.goto("/admin/inventory/movement/add/")
    page.get_by_label("Kind").select_option("write_off")
    page.get_by_label("Lot").select_option(str(lot.pk))
    page.get_by_label("Quantity").fill("5000")
    page.get_by_label("Reason").fill("Water damage")
    page.get_by_role("button", name="Record movement").click()
    # `expect` waits for the answer to the POST (is_visible() would look at once, maybe too early).
    expect(page.locator(".errorlist").first).to_be_visible()
    expect(page.locator(".errorlist").first).to_contain_text("kg free")
    lot.refresh_from_db()
    assert lot.on_hand == Decimal("1000")
