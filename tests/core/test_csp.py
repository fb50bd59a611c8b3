"""The Content-Security-Policy header on the admin, the portal and the API docs: scripts and
styles from our own origin only, no inline code, no framing, forms and <base> to ourselves."""

import pytest

from tests.e2e.helpers import PASSWORD, facilities

pytestmark = pytest.mark.django_db

EXPECTED = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "object-src": ["'none'"],
    "base-uri": ["'self'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
}


def directives(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    parsed = {}
    for part in header.split(";"):
        name, *values = part.split()
        parsed[name] = values
    return parsed


@pytest.mark.parametrize("path", ["/admin/login/", "/portal/login/", "/api/docs/"])
def test_anonymous_pages_carry_the_policy(client, path):
    response = client.get(path)
    assert response.status_code == 200
    assert directives(response) == EXPECTED


def test_staff_pages_carry_the_policy(client, manager, lot):
    assert client.login(username=manager.username, password=PASSWORD)
    for path in ["/admin/", "/admin/inventory/lot/", f"/admin/inventory/lot/{lot.pk}/change/"]:
        response = client.get(path)
        assert response.status_code == 200, path
        assert directives(response) == EXPECTED, path
        assert "unsafe-inline" not in response["Content-Security-Policy"]


def test_portal_pages_carry_the_policy(client, maker_a, agreement_a):
    assert client.login(username=maker_a.username, password=PASSWORD)
    for path in ["/portal/", "/portal/requests/", "/portal/requests/new/"]:
        response = client.get(path)
        assert response.status_code == 200, path
        assert directives(response) == EXPECTED, path


def test_our_html_has_no_inline_script_style_or_handler(client, manager, finance, lot):
    """What the policy would block, caught before a browser sees it: the dashboard (chart data by
    json_script, headroom bars as SVG) and Swagger UI (its init script a second request)."""
    facilities(finance=finance)
    assert client.login(username=manager.username, password=PASSWORD)
    for path in ["/admin/", "/api/docs/"]:
        html = client.get(path).content.decode()
        assert path != "/admin/" or 'class="vault-bar-fill"' in html
        assert " style=" not in html, path
        assert "<style" not in html, path
        assert " onclick=" not in html and " onload=" not in html, path
        for chunk in html.split("<script")[1:]:
            tag = chunk.split(">", 1)[0]
            assert "src=" in tag or 'type="application/json"' in tag, (path, tag)


def test_swagger_init_script_is_a_static_response(client):
    response = client.get("/api/docs/?script=")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle" in response.content.decode()


def assert_no_inline_code(html: str, where: str) -> None:
    assert " style=" not in html, where
    assert "<style" not in html, where
    assert " onclick=" not in html and " onload=" not in html and " onsubmit=" not in html, where
    for chunk in html.split("<script")[1:]:
        tag = chunk.split(">", 1)[0]
        assert "src=" in tag or 'type="application/json"' in tag, (where, tag)


def test_the_second_factor_pages_have_no_inline_code(client, manager, finance, settings):
    """two_factor's own templates load Bootstrap from a CDN and use inline handlers; Vault's
    (templates/two_factor/) are the admin's: the code step, enrolment, backup codes, the user's page."""
    from tests.second_factor import admin_login_post, totp_device

    settings.VAULT_STAFF_OTP_REQUIRED = True
    totp_device(manager)
    pages = {"code step": admin_login_post(client, manager.username)}
    enrolling = type(client)()
    admin_login_post(enrolling, finance.username)
    pages["enrolment"] = enrolling.get("/admin/two-factor/setup/")
    settings.VAULT_STAFF_OTP_REQUIRED = False
    pages["second factor"] = enrolling.get("/admin/two-factor/")
    for where, response in pages.items():
        assert response.status_code == 200, where
        assert directives(response) == EXPECTED, where
        assert_no_inline_code(response.content.decode(), where)
