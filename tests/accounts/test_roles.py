import pytest
from django.contrib.auth.models import Group, Permission

from tests.factories import UserFactory
from vault.accounts.roles import Role
from vault.accounts.services import roles_sync


def _codenames(role: str) -> set[str]:
    group = Group.objects.get(name=role)
    return {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.select_related("content_type")}


@pytest.fixture
def synced(db):
    roles_sync()


def test_every_role_has_a_group(synced):
    assert set(Group.objects.values_list("name", flat=True)) >= set(Role.values)


def test_manager_changes_inventory_but_not_the_ledger(synced):
    perms = _codenames("manager")
    for model in ("material", "site", "lot", "movement", "position"):
        assert f"inventory.add_{model}" in perms
        assert f"inventory.view_{model}" in perms
    assert "inventory.change_lot" in perms
    assert "ledger.view_journalentry" in perms
    assert "ledger.add_journalentry" not in perms
    assert "accounts.add_user" not in perms
    assert "accounts.view_user" in perms


def test_finance_changes_the_ledger_and_only_views_inventory(synced):
    perms = _codenames("finance")
    assert "ledger.add_journalentry" in perms
    assert "inventory.view_movement" in perms
    assert not {p for p in perms if p.startswith("inventory.") and not p.split(".")[1].startswith("view_")}


def test_auditor_only_views(synced):
    perms = _codenames("auditor")
    assert perms
    assert all(p.split(".")[1].startswith("view_") for p in perms)
    assert {"inventory.view_lot", "ledger.view_journalline", "accounts.view_user"} <= perms


def test_manufacturer_group_has_no_admin_permissions(synced):
    assert _codenames("manufacturer") == set()


def test_sync_is_idempotent_and_repairs_drift(synced):
    manager = Group.objects.get(name="manager")
    before = _codenames("manager")
    manager.permissions.add(Permission.objects.get(codename="add_user"))
    manager.permissions.remove(Permission.objects.get(codename="add_movement"))
    roles_sync()
    roles_sync()
    assert _codenames("manager") == before


def test_user_permissions_follow_the_group(synced):
    finance = UserFactory(username="fin", role="finance")
    manager = UserFactory(username="man", role="manager")
    assert manager.has_perm("inventory.add_movement")
    assert not finance.has_perm("inventory.add_movement")
    assert finance.has_perm("inventory.view_movement")


@pytest.mark.parametrize(
    ("role", "expected"),
    [("manager", True), ("finance", False), ("auditor", False), ("manufacturer", False)],
)
def test_has_role(db, org_a, role, expected):
    user = UserFactory(username=f"u-{role}", role=role, organization=org_a)
    assert user.has_role(Role.MANAGER) is expected
    superuser = UserFactory(username=f"su-{role}", role="", is_superuser=True)
    assert superuser.has_role(Role.MANAGER)
