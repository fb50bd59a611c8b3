"""The admin lists API tokens (Users and organizations › API tokens) by the first characters of
their key, with user, created, expiry and whether live, never the key (not stored) nor the digest;
read-only for everyone; only superusers delete, which revokes. knox's own admin is not there.
The role × page cells: tests/hardening/test_authz_matrix.py."""

import re

import pytest
from django.contrib.admin.models import DELETION, LogEntry
from django.test import Client
from knox.models import AuthToken
from rest_framework.test import APIClient

from tests.factories import UserFactory
from vault.accounts.services import token_create

LIST = "/admin/accounts/apitoken/"


@pytest.fixture
def issued(db):
    return token_create(user=UserFactory(username="alice", role="auditor"))


@pytest.fixture
def root(db):
    client = Client()
    client.force_login(UserFactory(username="root", role="manager", is_superuser=True))
    return client


def visible_text(response) -> str:
    """The page as a reader sees it: without tags (the row's address in links and checkboxes is
    its primary key, knox's digest; see docs/security.md)."""
    return re.sub(r"<[^>]*>", " ", response.content.decode())


def status_with(key: str) -> int:
    return APIClient().get("/api/v1/positions/", HTTP_AUTHORIZATION=f"Token {key}").status_code


def test_the_list_shows_prefix_user_and_expiry_never_the_key_or_digest(root, issued):
    response = root.get(LIST)
    assert response.status_code == 200
    text = visible_text(response)
    assert issued.token.token_key in text and "alice" in text
    assert issued.key not in response.content.decode()
    assert issued.token.digest not in text
    assert "Digest" not in text and "digest" not in text
    search = root.get(LIST, {"q": issued.token.token_key})
    assert issued.token.token_key in visible_text(search)


def test_a_token_page_is_read_only_and_shows_no_digest(root, issued):
    url = f"{LIST}{issued.token.digest}/change/"
    response = root.get(url)
    assert response.status_code == 200
    page = response.content.decode()
    assert 'name="_save"' not in page  # a view, not a form
    assert issued.token.digest not in visible_text(response)
    assert root.post(url, {"expiry_0": "2099-01-01", "expiry_1": "00:00:00"}).status_code == 403
    assert AuthToken.objects.get().expiry == issued.expiry
    assert root.get(f"{LIST}add/").status_code == 403  # tokens come from the token endpoint only


def test_a_superuser_deletes_a_token_which_revokes_it(root, issued):
    assert status_with(issued.key) == 200
    response = root.post(f"{LIST}{issued.token.digest}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not AuthToken.objects.exists()
    assert status_with(issued.key) == 401
    entry = LogEntry.objects.get(action_flag=DELETION)  # the admin's record of who revoked it
    assert entry.object_repr == f"{issued.token.token_key}…"


def test_a_superuser_deletes_tokens_in_bulk(root, issued):
    other = token_create(user=issued.token.user)
    body = {"action": "delete_selected", "_selected_action": [issued.token.digest, other.token.digest], "post": "yes"}
    assert root.post(LIST, body).status_code == 302
    assert not AuthToken.objects.exists()


@pytest.mark.parametrize("role", ["auditor", "manager", "finance"])
def test_staff_view_the_list_but_never_delete(issued, role):
    from vault.accounts.services import roles_sync

    roles_sync()
    staff = Client()
    staff.force_login(UserFactory(username=f"staff-{role}", role=role))
    listed = staff.get(LIST)
    assert listed.status_code == 200 and issued.token.token_key in visible_text(listed)
    assert 'value="delete_selected"' not in listed.content.decode()
    assert staff.get(f"{LIST}{issued.token.digest}/delete/").status_code == 403
    assert staff.post(f"{LIST}{issued.token.digest}/delete/", {"post": "yes"}).status_code == 403
    body = {"action": "delete_selected", "_selected_action": issued.token.digest, "post": "yes"}
    staff.post(LIST, body)
    assert status_with(issued.key) == 200


def test_manufacturers_get_no_admin(issued, maker_a):
    maker = Client()
    maker.force_login(maker_a)
    assert maker.get(LIST)["Location"].startswith("/admin/login/")


def test_knoxs_own_admin_is_not_installed(root, issued):
    """It shows digests and adds tokens from a form."""
    assert root.get("/admin/knox/authtoken/").status_code == 404
