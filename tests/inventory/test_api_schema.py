import re

import pytest
from django.contrib.staticfiles import finders


@pytest.fixture
def schema(client, db):
    response = client.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    return response.json()


def test_schema_describes_the_holdings_api(schema):
    paths = schema["paths"]
    for path in (
        "/api/v1/materials/",
        "/api/v1/materials/{code}/",
        "/api/v1/sites/{code}/",
        "/api/v1/lots/",
        "/api/v1/lots/{id}/status/",
        "/api/v1/movements/",
        "/api/v1/movements/{id}/reverse/",
        "/api/v1/positions/",
        "/api/v1/auth/token/",
    ):
        assert path in paths, path
    movements = paths["/api/v1/movements/"]
    assert set(movements) == {"get", "post"}  # no edit or delete is advertised
    filters = {p["name"] for p in movements["get"]["parameters"]}
    assert {"material", "site", "lot", "kind", "date_from", "date_to", "page", "page_size"} <= filters
    assert "on_hand" in schema["components"]["schemas"]["Lot"]["properties"]
    assert "on_hand" not in schema["components"]["schemas"]["LotRequest"]["properties"]
    kinds = schema["components"]["schemas"]["MovementCreateRequest"]["properties"]["kind"]
    assert "reversal" not in str(kinds)


def test_swagger_ui_is_served_offline(client, db):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    page = response.content.decode()
    assets = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert any(a.endswith("swagger-ui-bundle.js") for a in assets)
    assert "/api/docs/?script=" in assets  # the init script: a file of its own (no inline script under CSP)
    for asset in [a for a in assets if a != "/api/docs/?script="]:
        assert asset.startswith("/static/"), asset
        assert finders.find(asset.removeprefix("/static/")), f"{asset} is not shipped"
    assert not re.search(r"https?://(?!localhost|testserver)", page.replace('"http"', "")), "a remote URL in the page"
    script = client.get("/api/docs/?script=")
    assert script.status_code == 200 and "SwaggerUIBundle" in script.content.decode()
    for cdn in ("cdn.jsdelivr", "unpkg.com", "cdnjs"):
        assert cdn not in page and cdn not in script.content.decode()


def test_every_operation_with_a_body_documents_the_413(schema):
    """Integrators learn from the schema that an oversized body is refused (413, the error shape)."""
    with_body = [
        (path, method, operation)
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
        if isinstance(operation, dict) and "requestBody" in operation
    ]
    assert len(with_body) > 5
    for path, method, operation in with_body:
        response = operation["responses"].get("413")
        assert response, f"{method.upper()} {path} does not document 413"
        assert response["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}
    positions = schema["paths"]["/api/v1/positions/"]["get"]["responses"]
    assert "413" not in positions  # a GET sends no body
