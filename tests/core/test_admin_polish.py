"""Every Vault model in the admin has columns, filters and a search that works."""

import pytest
from django.contrib import admin
from django.urls import reverse

VAULT_APPS = {"accounts", "inventory", "ledger", "financing", "drawdowns", "coverage"}
VAULT_ADMINS = sorted(
    ((model, ma) for model, ma in admin.site._registry.items() if model._meta.app_label in VAULT_APPS),
    key=lambda pair: pair[0]._meta.label,
)


@pytest.mark.parametrize(("model", "model_admin"), VAULT_ADMINS, ids=[m._meta.label for m, _ in VAULT_ADMINS])
def test_changelist_has_columns_filters_and_a_working_search(model, model_admin, client, manager):
    assert model_admin.list_display != ("__str__",), "name the columns people read"
    assert model_admin.list_filter, "give the list filters"
    assert model_admin.search_fields, "give the list a search box"
    client.force_login(manager)
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    response = client.get(url, {"q": "NDPR"})
    assert response.status_code == 200
    assert 'id="searchbar"' in response.content.decode()
