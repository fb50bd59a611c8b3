"""The accounts admin writes through the services, as every admin page does: organizations and
users added, changed and deleted by a superuser, a refusal answered 400 with nothing written."""

import pytest

from tests.factories import OrganizationFactory, UserFactory
from vault.accounts.models import Organization, User
from vault.accounts.services import roles_sync

pytestmark = pytest.mark.django_db


@pytest.fixture
def root(client):
    roles_sync()
    user = UserFactory(username="root", is_superuser=True, is_staff=True)
    client.force_login(user)
    return user


def test_organizations_are_added_changed_and_deleted_through_the_services(client, root):
    added = client.post(
        "/admin/accounts/organization/add/", {"code": "NEW-CO", "name": "New Co", "kind": "manufacturer"}
    )
    assert added.status_code == 302
    org = Organization.objects.get(code="NEW-CO")
    assert org.history.first().history_user == root
    changed = client.post(
        f"/admin/accounts/organization/{org.pk}/change/", {"code": "NEW-CO", "name": "Renamed", "kind": "manufacturer"}
    )
    assert changed.status_code == 302
    org.refresh_from_db()
    assert org.name == "Renamed"
    UserFactory(username="member", role="manufacturer", organization=org)
    refused = client.post(f"/admin/accounts/organization/{org.pk}/delete/", {"post": "yes"})
    assert refused.status_code in {200, 400}  # the admin lists what protects it, or the service refuses
    assert Organization.objects.filter(pk=org.pk).exists()


def test_a_user_is_added_then_given_a_role_and_groups_through_the_services(client, root):
    org = OrganizationFactory(code="ORG-Z")
    weak = client.post(
        "/admin/accounts/user/add/",
        {"username": "newbie", "password1": "x", "password2": "x", "usable_password": "true"},
    )
    assert weak.status_code == 400
    assert not User.objects.filter(username="newbie").exists()
    added = client.post(
        "/admin/accounts/user/add/",
        {
            "username": "newbie",
            "password1": "a-Long-pass-phrase-42",
            "password2": "a-Long-pass-phrase-42",
            "usable_password": "true",
        },
    )
    assert added.status_code == 302
    user = User.objects.get(username="newbie")
    assert user.check_password("a-Long-pass-phrase-42") and user.role == ""
    form = {
        "username": "newbie",
        "first_name": "",
        "last_name": "",
        "email": "n@example.com",
        "is_active": "on",
        "role": "manufacturer",
        "date_joined_0": "2026-11-16",
        "date_joined_1": "10:00:00",
    }
    no_org = client.post(f"/admin/accounts/user/{user.pk}/change/", form)
    assert no_org.status_code == 400
    user.refresh_from_db()
    assert user.role == ""
    done = client.post(f"/admin/accounts/user/{user.pk}/change/", {**form, "organization": org.pk})
    assert done.status_code == 302, done.content.decode()[:2000]
    user.refresh_from_db()
    assert (user.role, user.organization, user.email) == ("manufacturer", org, "n@example.com")
    assert list(user.groups.values_list("name", flat=True)) == ["manufacturer"]
    assert user.history.first().history_user == root


def test_the_password_page_sets_a_password_through_the_service(client, root):
    user = UserFactory(username="someone", role="finance")
    page = f"/admin/accounts/user/{user.pk}/password/"
    weak = client.post(page, {"password1": "abc", "password2": "abc", "usable_password": "true"})
    assert weak.status_code == 200 and "password2" in weak.context["form"].errors
    done = client.post(
        page, {"password1": "another-Long-phrase-7", "password2": "another-Long-phrase-7", "usable_password": "true"}
    )
    assert done.status_code == 302
    user.refresh_from_db()
    assert user.check_password("another-Long-phrase-7")
