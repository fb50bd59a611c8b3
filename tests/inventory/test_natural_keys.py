"""Material and site codes are natural keys: set on creation, never renamed (API, admin, database)."""

import pytest
from django.db import IntegrityError, connection, transaction

from tests.factories import MaterialFactory, SiteFactory
from vault.inventory.models import Material, Site


def _sql(statement, params=()):
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement, params)


@pytest.mark.parametrize(("model", "factory"), [(Material, MaterialFactory), (Site, SiteFactory)])
def test_the_database_refuses_a_rename(db, model, factory):
    row = factory(code="KEEP-ME")
    with pytest.raises(IntegrityError, match="immutable"):
        _sql(f"UPDATE {model._meta.db_table} SET code = 'RENAMED' WHERE id = %s", [row.pk])  # noqa: S608
    with pytest.raises(IntegrityError, match="immutable"), transaction.atomic():
        model.objects.filter(pk=row.pk).update(code="RENAMED")
    row.refresh_from_db()
    assert row.code == "KEEP-ME"


@pytest.mark.parametrize(("model", "factory"), [(Material, MaterialFactory), (Site, SiteFactory)])
def test_the_database_allows_other_changes_and_the_same_code(db, model, factory):
    row = factory(code="KEEP-ME")
    _sql(f"UPDATE {model._meta.db_table} SET name = 'New name', code = code WHERE id = %s", [row.pk])  # noqa: S608
    row.refresh_from_db()
    assert (row.code, row.name) == ("KEEP-ME", "New name")


@pytest.mark.postgres
@pytest.mark.parametrize("table", ["inventory_material", "inventory_site"])
def test_postgres_trigger_refuses_a_rename_with_a_check_violation(db, table):
    row = (MaterialFactory if table == "inventory_material" else SiteFactory)(code="KEEP-ME")
    with pytest.raises(IntegrityError, match=rf"{table}\.code is immutable: KEEP-ME cannot be renamed"):
        _sql(f"UPDATE {table} SET code = 'RENAMED' WHERE id = %s", [row.pk])  # noqa: S608


@pytest.mark.parametrize(("url", "factory"), [("/api/v1/materials/", MaterialFactory), ("/api/v1/sites/", SiteFactory)])
def test_api_rename_is_refused_with_code_immutable(api, manager, url, factory):
    row = factory(code="KEEP-ME", name="Old name")
    response = api(manager).patch(f"{url}KEEP-ME/", {"code": "RENAMED", "name": "New name"}, format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "code_immutable"
    assert list(body["errors"]) == ["code"]
    row.refresh_from_db()
    assert (row.code, row.name) == ("KEEP-ME", "Old name")  # nothing written, not even the name


@pytest.mark.parametrize(("url", "factory"), [("/api/v1/materials/", MaterialFactory), ("/api/v1/sites/", SiteFactory)])
def test_api_patch_with_the_same_code_or_without_one_is_accepted(api, manager, url, factory):
    row = factory(code="KEEP-ME", name="Old name")
    client = api(manager)
    assert client.patch(f"{url}KEEP-ME/", {"code": "KEEP-ME", "name": "Same"}, format="json").status_code == 200
    assert client.patch(f"{url}KEEP-ME/", {"name": "New name"}, format="json").status_code == 200
    row.refresh_from_db()
    assert (row.code, row.name) == ("KEEP-ME", "New name")


def test_api_create_still_takes_a_code(api, manager):
    response = api(manager).post("/api/v1/materials/", {"code": "CO", "name": "Cobalt", "form": "metal"})
    assert response.status_code == 201
    assert Material.objects.filter(code="CO").exists()


@pytest.mark.parametrize(
    ("model", "factory", "fields"),
    [
        ("material", MaterialFactory, {"name": "New name", "form": "oxide", "coverage_target_days": "60"}),
        ("site", SiteFactory, {"name": "New name", "country": "US"}),
    ],
)
def test_admin_change_form_shows_the_code_read_only_and_ignores_a_new_one(browser, manager, model, factory, fields):
    row = factory(code="KEEP-ME")
    client = browser(manager)
    page = client.get(f"/admin/inventory/{model}/{row.pk}/change/")
    assert page.status_code == 200
    assert 'name="code"' not in page.content.decode()
    assert "code" in page.context["adminform"].readonly_fields
    response = client.post(f"/admin/inventory/{model}/{row.pk}/change/", {"code": "RENAMED", **fields})
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else None
    row.refresh_from_db()
    assert (row.code, row.name) == ("KEEP-ME", "New name")


@pytest.mark.parametrize("model", ["material", "site"])
def test_admin_add_form_takes_a_code(browser, manager, model):
    page = browser(manager).get(f"/admin/inventory/{model}/add/")
    assert 'name="code"' in page.content.decode()
