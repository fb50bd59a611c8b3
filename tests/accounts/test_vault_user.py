import pytest
from django.core.management import CommandError, call_command

from vault.accounts.models import Organization, User
from vault.accounts.services import user_upsert
from vault.core.errors import InvalidInput


def _run(*args) -> str:
    from io import StringIO

    out = StringIO()
    call_command("vault_user", *args, stdout=out)
    return out.getvalue()


def test_creates_user_and_new_organization(db):
    output = _run("acme", "--role", "manufacturer", "--org", "ACME-MOTORS", "--password", "s3cret-pass!")
    assert "acme: manufacturer of ACME-MOTORS" in output
    user = User.objects.get(username="acme")
    assert user.role == "manufacturer"
    assert user.organization.code == "ACME-MOTORS"
    assert user.organization.kind == Organization.Kind.MANUFACTURER
    assert [g.name for g in user.groups.all()] == ["manufacturer"]
    assert user.check_password("s3cret-pass!")
    assert not user.is_staff  # manufacturers use the API and the portal, not the admin


def test_updates_an_existing_user_role_and_group(db):
    _run("sam", "--role", "auditor", "--password", "first-pass-w0rd!")
    _run("sam", "--role", "manager", "--org", "VAULT")
    user = User.objects.get(username="sam")
    assert (user.role, user.organization.code, user.is_staff) == ("manager", "VAULT", True)
    assert [g.name for g in user.groups.all()] == ["manager"]
    assert user.check_password("first-pass-w0rd!")  # no --password: the password is kept
    assert User.objects.filter(username="sam").count() == 1
    assert Organization.objects.get(code="VAULT").kind == Organization.Kind.OPERATOR


def test_existing_organization_is_reused(db):
    Organization.objects.create(code="HARTREE", name="Hartree Partners", kind=Organization.Kind.TRADING_HOUSE)
    _run("trader", "--role", "finance", "--org", "HARTREE")
    org = Organization.objects.get(code="HARTREE")
    assert (org.name, org.kind) == ("Hartree Partners", Organization.Kind.TRADING_HOUSE)
    assert User.objects.get(username="trader").organization == org


def test_user_without_password_cannot_log_in(db):
    _run("nopass", "--role", "auditor")
    assert not User.objects.get(username="nopass").has_usable_password()


def test_manufacturer_needs_an_organization(db):
    with pytest.raises(CommandError, match="organization"):
        _run("orphan", "--role", "manufacturer")
    assert not User.objects.filter(username="orphan").exists()


def test_unknown_role_is_refused(db):
    with pytest.raises(CommandError):
        _run("x", "--role", "admin")
    with pytest.raises(InvalidInput) as exc:
        user_upsert(username="x", role="admin")
    assert exc.value.field == "role"
    assert not User.objects.filter(username="x").exists()


def test_changes_are_audited(db):
    _run("histo", "--role", "auditor")
    _run("histo", "--role", "finance")
    roles = [h.role for h in User.objects.get(username="histo").history.order_by("history_id")]
    assert roles[-2:] == ["auditor", "finance"]
