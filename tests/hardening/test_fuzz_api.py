"""Schemathesis fuzzes every operation of Vault's own OpenAPI schema, as every role: no 5xx,
every response matches its documented schema and status codes. Bounded (few examples per
operation and role) so that CI stays quick; raise VAULT_FUZZ_EXAMPLES for a deeper run."""

import json
import os

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, settings
from schemathesis.checks import load_all_checks, not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from config.wsgi import application
from tests.factories import api_token
from vault.accounts import demo as accounts_demo
from vault.accounts.models import User
from vault.inventory import demo as inventory_demo

load_all_checks()
EXAMPLES = int(os.environ.get("VAULT_FUZZ_EXAMPLES", "3"))
# The coverage phase (boundary values of every parameter) takes minutes per role; opt in.
BOUNDARIES = os.environ.get("VAULT_FUZZ_BOUNDARIES") == "1"
ROLES = {
    "anonymous": None,
    "manager": "manager",
    "finance": "finance",
    "auditor": "auditor",
    "manufacturer": "acme",
}
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


def _openapi() -> dict:
    generated = json.loads(json.dumps(SchemaGenerator().get_schema(request=None, public=True), default=str))
    # Fuzz the JSON encoding of each body: the form encodings DRF also accepts parse to the
    # same serializers, and the WSGI transport cannot encode invalid (negative) form bodies.
    for operations in generated["paths"].values():
        for operation in operations.values():
            content = operation.get("requestBody", {}).get("content", {})
            if "application/json" in content:
                for media in [m for m in content if m != "application/json"]:
                    del content[media]
    return generated


# Every role: random (fuzzing) cases. The superuser, who passes every role check: the coverage
# phase too (boundary values and malformed input for every parameter and field).
schema = schemathesis.openapi.from_dict(_openapi())
schema.app = application
schema.config.phases.update(phases=["examples", "fuzzing"])
boundary_schema = schemathesis.openapi.from_dict(_openapi())
boundary_schema.app = application
boundary_schema.config.phases.update(phases=["examples", "coverage"])


@pytest.fixture(autouse=True)
def _keep_test_connection():
    """Calling the WSGI app directly fires request_started/finished, whose handler would close
    the connection that holds the test's transaction; Django's test client unhooks it too."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def tokens(db):
    """Users of every role, the demo materials, depots and lots, and an API token per role (a
    case of `DELETE /api/v1/auth/token/` revokes its role's: the later cases of that operation
    are 401s, which it documents)."""
    accounts_demo.seed()
    inventory_demo.seed(by=User.objects.get(username="manager"))
    User.objects.create_superuser("root", "root@vault.example", "root-pass-w0rd")
    names = {**ROLES, "superuser": "root"}
    return {role: api_token(User.objects.get(username=name)) if name else None for role, name in names.items()}


@pytest.mark.parametrize("role", list(ROLES))
@schema.parametrize()
@settings(
    max_examples=EXAMPLES, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck)
)
def test_every_operation_as_every_role(case, role, tokens):
    headers = {"Authorization": f"Token {tokens[role]}"} if tokens[role] else {}
    response = case.call(headers=headers)
    case.validate_response(response, checks=CHECKS)


if BOUNDARIES:  # defined only when asked for, so that a normal run neither runs nor skips it

    @boundary_schema.parametrize()
    @settings(
        max_examples=EXAMPLES, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck)
    )
    def test_every_operation_at_its_boundaries(case, tokens):
        response = case.call(headers={"Authorization": f"Token {tokens['superuser']}"})
        case.validate_response(response, checks=CHECKS)
