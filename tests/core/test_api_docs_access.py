"""The OpenAPI schema and Swagger UI: public in local and test settings, behind a login when
VAULT_API_DOCS_PUBLIC is off (production's default): the schema answers 401 to anonymous
callers, the docs page sends a browser to the login page; a token or a session opens both."""

import pytest
from django.test import override_settings

from tests.core.test_settings import _manage
from tests.e2e.helpers import PASSWORD
from tests.factories import api_token

pytestmark = pytest.mark.django_db

private = override_settings(VAULT_API_DOCS_PUBLIC=False)


def test_public_in_test_settings(client):
    assert client.get("/api/schema/").status_code == 200
    assert client.get("/api/docs/").status_code == 200


@pytest.mark.parametrize(("env", "expected"), [({}, "False"), ({"VAULT_API_DOCS_PUBLIC": "1"}, "True")])
def test_production_settings_make_them_private_unless_told(env, expected):
    result = _manage(
        "shell",
        "-c",
        "from django.conf import settings; print(settings.VAULT_API_DOCS_PUBLIC, settings.SESSION_COOKIE_AGE)",
        DJANGO_SETTINGS_MODULE="config.settings.production",
        DJANGO_SECRET_KEY="k7Qp2vXz9LmN4bRt8WcY1sDf6GhJ3kUe5AoPi0ZxCvBnM2qWeRtYuIoPaSdFgHjK",
        **env,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1].split() == [expected, "36000"]  # after shell's banner


@private
def test_anonymous_gets_401_for_the_schema(client):
    response = client.get("/api/schema/")
    assert response.status_code == 401
    assert b"openapi" not in response.content


@private
def test_anonymous_browser_is_sent_to_login_for_the_docs(client):
    response = client.get("/api/docs/")
    assert response.status_code == 302
    assert response["Location"] == "/admin/login/?next=/api/docs/"
    assert client.get("/api/docs/?script=").status_code == 401


@private
@pytest.mark.parametrize("who", ["manager", "maker_a"])
def test_token_opens_the_schema(client, request, who):
    user = request.getfixturevalue(who)
    response = client.get("/api/schema/", HTTP_AUTHORIZATION=f"Token {api_token(user)}")
    assert response.status_code == 200
    assert b"openapi" in response.content


@private
def test_session_opens_the_docs_and_the_schema(client, manager):
    assert client.login(username=manager.username, password=PASSWORD)
    assert client.get("/api/docs/").status_code == 200
    assert client.get("/api/docs/?script=").status_code == 200
    assert client.get("/api/schema/").status_code == 200


@private
def test_portal_session_opens_the_schema(client, maker_a):
    client.post("/portal/login/", {"username": maker_a.username, "password": PASSWORD})
    assert client.get("/api/schema/").status_code == 200
