"""Coverage's admin writes only through services; what they refuse is a 400 with the error on
the field, nothing written (vault.core.admin.ServiceFormMixin)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from tests.admin_pages import field_errors, nothing_written
from tests.inventory.admin_forms import form_data
from vault.coverage import services
from vault.coverage.models import ForecastVersion, Inbound

PAST_DATE = "Inbound is a future receipt: the expected date cannot be in the past."


@pytest.fixture
def staff_client(client, manager):
    client.force_login(manager)
    return client


def _day(days: int) -> str:
    return str(timezone.localdate() + timedelta(days=days))


def _inbound_body(material, **overrides):
    return {"material": material.pk, "quantity": "500", "expected_date": _day(10), "confirmed": "on", **overrides}


def test_inbound_is_added_through_the_service(staff_client, material, manager):
    response = staff_client.post("/admin/coverage/inbound/add/", _inbound_body(material))
    assert response.status_code == 302
    inbound = Inbound.objects.get()
    assert (inbound.quantity, inbound.created_by) == (Decimal("500"), manager)


def test_a_past_expected_date_is_a_400_on_the_field_not_a_403(staff_client, material):
    """The service's refusal used to be raised as PermissionDenied: a validation error shown as
    a permission error."""
    with nothing_written():
        response = staff_client.post("/admin/coverage/inbound/add/", _inbound_body(material, expected_date=_day(-1)))
    assert response.status_code == 400
    assert field_errors(response, "expected_date") == PAST_DATE


def test_a_change_to_a_past_date_is_a_400_and_changes_nothing(staff_client, material, manager):
    inbound = services.inbound_create(
        by=manager, material=material, quantity=Decimal("500"), expected_date=timezone.localdate() + timedelta(days=3)
    )
    url = f"/admin/coverage/inbound/{inbound.pk}/change/"
    data = form_data(staff_client.get(url))
    data.pop("_saveasnew", None)
    response = staff_client.post(url, {**data, "expected_date": _day(-2), "quantity": "1"})
    assert response.status_code == 400
    assert field_errors(response, "expected_date") == PAST_DATE
    inbound.refresh_from_db()
    assert (inbound.quantity, inbound.history.count()) == (Decimal("500"), 1)
    # Only what differs goes to the service: the note of a receipt whose date has passed can change.
    Inbound.objects.filter(pk=inbound.pk).update(expected_date=timezone.localdate() - timedelta(days=1))
    data = form_data(staff_client.get(url))
    data.pop("_saveasnew", None)
    assert staff_client.post(url, {**data, "note": "Late"}).status_code == 302
    inbound.refresh_from_db()
    assert inbound.note == "Late"


def test_inbound_is_deleted_through_the_service(staff_client, material, manager, monkeypatch):
    inbound = services.inbound_create(
        by=manager, material=material, quantity=Decimal("5"), expected_date=timezone.localdate() + timedelta(days=3)
    )
    deleted = []
    real = services.inbound_delete
    monkeypatch.setattr(services, "inbound_delete", lambda **kw: deleted.append(kw["by"]) or real(**kw))
    response = staff_client.post(f"/admin/coverage/inbound/{inbound.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert deleted == [manager] and not Inbound.objects.exists()


def test_a_bad_forecast_file_is_a_400_with_the_error_on_the_file(staff_client, material):
    upload = SimpleUploadedFile("f.csv", b"material,month,quantity\nNDPR-OX,2026-07,\xff\n", "text/csv")
    with nothing_written():
        response = staff_client.post("/admin/coverage/forecastversion/add/", {"file": upload})
    assert response.status_code == 400
    assert field_errors(response, "file") == "The file is not UTF-8 text."


def test_bad_forecast_rows_are_listed_with_a_400(staff_client, material):
    upload = SimpleUploadedFile("f.csv", b"material,month,quantity\nNDPR-OX,2026-7,1\nNOPE,2026-07,1\n", "text/csv")
    with nothing_written():
        response = staff_client.post("/admin/coverage/forecastversion/add/", {"file": upload})
    assert response.status_code == 400
    page = response.content.decode()
    assert "2 row(s) have errors; nothing was imported." in page
    table = page.split('<table id="forecast-row-errors">')[1].split("</table>")[0]
    assert "<td>row 2</td><td>month</td>" in table and "<td>row 3</td><td>material</td>" in table
    assert not ForecastVersion.objects.exists()
