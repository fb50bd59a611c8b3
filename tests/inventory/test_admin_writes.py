"""The holdings' admin writes only through services, and answers what they refuse with a 400
that shows the error on the field, nothing written (vault.core.admin.ServiceFormMixin)."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from tests.admin_pages import field_errors, nothing_written
from tests.factories import MaterialFactory, SiteFactory
from tests.inventory.admin_forms import form_data, lot_add_data
from tests.inventory.invariants import assert_holdings_consistent
from vault.core.errors import Conflict, InvalidInput
from vault.inventory import services
from vault.inventory.models import Lot, Material, Position, Site
from vault.inventory.services import lot_reserve


def _lot_add(client, **overrides):
    return client.post("/admin/inventory/lot/add/", lot_add_data(client, **overrides))


def _change(client, url, **overrides):
    data = form_data(client.get(url))
    data.pop("_saveasnew", None)
    data.update(overrides)
    return client.post(url, data)


def test_an_invalid_movement_is_a_400_with_the_error_shown_and_nothing_written(browser, manager, lot, unchanged):
    client = browser(manager)
    with unchanged(), nothing_written():
        response = client.post(
            "/admin/inventory/movement/add/", {"kind": "release", "lot": lot.pk, "quantity": "1000.001"}
        )
    assert response.status_code == 400
    assert "kg free" in field_errors(response, "quantity")


@pytest.mark.parametrize(
    ("error", "field", "shown"),
    [
        (
            InvalidInput("The depot is full now.", field="initial_quantity"),
            "initial_quantity",
            "The depot is full now.",
        ),
        # The ValidationError of the service's full_clean() (a lot number taken meanwhile) was a 500.
        (ValidationError({"lot_number": ["Taken meanwhile."]}), "lot_number", "Taken meanwhile."),
    ],
)
def test_a_lot_the_service_refuses_at_saving_is_a_400_on_the_field(
    browser, manager, material, site, monkeypatch, unchanged, error, field, shown
):
    """The form is valid; the one call of the service, in save_model, refuses after writing the
    lot. The admin used to check with a dry run first and then turned this second refusal into
    a redirect (or a 500); now it is the form again, 400, with nothing written."""
    real = services.lot_create

    def refuses_after_writing(**kwargs):
        real(**kwargs)
        raise error

    client = browser(manager)
    monkeypatch.setattr(services, "lot_create", refuses_after_writing)
    with unchanged(), nothing_written():
        response = _lot_add(client, material=material.pk, site=site.pk, initial_quantity="300")
    assert response.status_code == 400
    assert field_errors(response, field) == shown
    assert not Lot.objects.exists()


def test_a_lot_over_the_site_capacity_is_a_400_on_its_initial_quantity(browser, manager, material, capped_site):
    client = browser(manager)
    with nothing_written():
        response = _lot_add(client, material=material.pk, site=capped_site.pk, initial_quantity="1500.001")
    assert response.status_code == 400
    assert "capacity" in field_errors(response, "initial_quantity")


def test_a_refused_status_is_a_400_on_the_field_and_the_details_are_not_saved(browser, manager, lot):
    lot_reserve(lot=lot, quantity=Decimal("5"))
    url = f"/admin/inventory/lot/{lot.pk}/change/"
    response = _change(browser(manager), url, status="damaged", supplier="changed")
    assert response.status_code == 400
    assert "reserved" in field_errors(response, "status")
    lot.refresh_from_db()
    assert (lot.status, lot.supplier) == ("available", "Lynas")


def test_a_lot_change_is_one_transaction(browser, manager, lot, monkeypatch):
    """The status service succeeds, the details service then refuses: the status goes back too."""

    def refuses(**kwargs):
        raise Conflict("The certificate is being replaced.", field="assay_certificate")

    monkeypatch.setattr(services, "lot_details_update", refuses)
    url = f"/admin/inventory/lot/{lot.pk}/change/"
    response = _change(browser(manager), url, status="quarantine", assay_certificate="AC-2")
    assert response.status_code == 400
    assert field_errors(response, "assay_certificate") == "The certificate is being replaced."
    lot.refresh_from_db()
    assert lot.status == "available"
    assert Position.objects.get(material=lot.material, site=lot.site).unavailable == 0
    assert_holdings_consistent()


def test_lot_details_change_through_the_service_and_only_what_differs(browser, manager, lot, monkeypatch):
    calls = []
    real = services.lot_details_update
    monkeypatch.setattr(services, "lot_details_update", lambda **kw: calls.append(kw) or real(**kw))
    url = f"/admin/inventory/lot/{lot.pk}/change/"
    client = browser(manager)
    assert _change(client, url, supplier="Iluka").status_code == 302
    assert [set(call) - {"lot", "by"} for call in calls] == [{"supplier"}]
    assert (calls[0]["supplier"], calls[0]["by"]) == ("Iluka", manager)
    history = lot.history.count()
    assert _change(client, url).status_code == 302  # nothing changed: no service call, no row
    assert len(calls) == 1 and lot.history.count() == history


# --- the catalogue -----------------------------------------------------------------------------------


MATERIAL = {"code": "CO", "name": "Cobalt", "form": "metal", "grade": "99.8%", "coverage_target_days": "60"}
SITE = {"code": "ROTT", "name": "Rotterdam", "country": "NL", "custodian": "", "capacity_kg": ""}


@pytest.mark.parametrize(("model", "body", "service"), [("material", MATERIAL, "material"), ("site", SITE, "site")])
def test_catalogue_rows_are_added_changed_and_deleted_through_services(
    browser, manager, monkeypatch, model, body, service
):
    calls = []
    for verb in ("create", "update", "delete"):
        real = getattr(services, f"{service}_{verb}")
        monkeypatch.setattr(
            services, f"{service}_{verb}", lambda real=real, verb=verb, **kw: calls.append(verb) or real(**kw)
        )
    client = browser(manager)
    assert client.post(f"/admin/inventory/{model}/add/", body).status_code == 302
    row = (Material if model == "material" else Site).objects.get(code=body["code"])
    assert row.history.get().history_user == manager
    url = f"/admin/inventory/{model}/{row.pk}/change/"
    assert _change(client, url, name="Renamed").status_code == 302
    row.refresh_from_db()
    assert row.name == "Renamed" and row.history.first().history_user == manager
    assert client.post(f"/admin/inventory/{model}/{row.pk}/delete/", {"post": "yes"}).status_code == 302
    assert not type(row).objects.filter(pk=row.pk).exists()
    assert calls == ["create", "update", "delete"]


def test_an_invalid_material_is_a_400_with_the_error_shown_and_nothing_written(browser, manager):
    client = browser(manager)
    with nothing_written():
        response = client.post("/admin/inventory/material/add/", {**MATERIAL, "code": "co"})
    assert response.status_code == 400
    assert field_errors(response, "code")


def test_a_site_capacity_below_what_it_holds_is_a_400_on_the_field(browser, manager, lot):
    url = f"/admin/inventory/site/{lot.site_id}/change/"
    response = _change(browser(manager), url, capacity_kg="999.999")
    assert response.status_code == 400
    assert field_errors(response, "capacity_kg") == "The site holds 1000.000 kg; capacity cannot be less."
    assert Site.objects.get(pk=lot.site_id).capacity_kg is None
    assert _change(browser(manager), url, capacity_kg="1000").status_code == 302


def test_the_delete_action_goes_through_the_service(browser, manager, monkeypatch):
    spare = [MaterialFactory(code=f"SPARE-{n}") for n in range(2)]
    deleted = []
    real = services.material_delete
    monkeypatch.setattr(services, "material_delete", lambda **kw: deleted.append(kw["material"].code) or real(**kw))
    response = browser(manager).post(
        "/admin/inventory/material/",
        {"action": "delete_selected", "_selected_action": [m.pk for m in spare], "post": "yes"},
    )
    assert response.status_code == 302
    assert deleted == ["SPARE-0", "SPARE-1"] and not Material.objects.filter(code__startswith="SPARE").exists()


def test_a_site_in_use_is_not_deleted(browser, manager, lot):
    response = browser(manager).post(f"/admin/inventory/site/{lot.site_id}/delete/", {"post": "yes"})
    assert response.status_code == 200  # Django's page naming what protects it
    assert Site.objects.filter(pk=lot.site_id).exists()
    with pytest.raises(Conflict, match="in use"):
        services.site_delete(site=lot.site, by=manager)


def test_reverting_to_an_old_version_goes_through_the_service(browser, manager):
    site = SiteFactory(code="OLD", name="First name")
    services.site_update(site=site, by=manager, name="Second name")
    first = site.history.order_by("history_id").first()
    url = f"/admin/inventory/site/{site.pk}/history/{first.history_id}/"
    response = _change(browser(manager), url)
    assert response.status_code == 302
    site.refresh_from_db()
    assert site.name == "First name"
    assert site.history.first().history_user == manager
