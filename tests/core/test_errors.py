from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from rest_framework import exceptions

from vault.core.errors import Conflict, DomainError, InsufficientStock, InvalidInput, InvalidTransition, NotFound
from vault.core.exceptions import exception_handler


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        (InvalidInput("bad"), 400, "invalid"),
        (NotFound("gone"), 404, "not_found"),
        (Conflict("clash"), 409, "conflict"),
        (InsufficientStock("short"), 409, "insufficient_stock"),
        (InvalidTransition("no"), 409, "invalid_transition"),
        (InvalidInput("bad", code="movement_immutable"), 400, "movement_immutable"),
    ],
)
def test_domain_errors_have_stable_status_and_code(error, status, code):
    response = exception_handler(error, {})
    assert response.status_code == status
    assert response.data["code"] == code


def test_field_and_extra_are_in_the_body():
    error = InsufficientStock("Lot L-1 is short.", field="quantity", lot="L-1", short_by=Decimal("2.5"))
    assert exception_handler(error, {}).data == {
        "code": "insufficient_stock",
        "detail": "Lot L-1 is short.",
        "errors": {"quantity": ["Lot L-1 is short."]},
        "lot": "L-1",
        "short_by": "2.5",
    }


def test_without_field_there_is_no_errors_key():
    assert exception_handler(Conflict("clash"), {}).data == {"code": "conflict", "detail": "clash"}


def test_a_domain_error_is_an_exception_with_its_message():
    error = DomainError("plain")
    assert str(error) == "plain" and error.status_code == 400


def test_drf_validation_errors_get_the_same_shape():
    response = exception_handler(exceptions.ValidationError({"quantity": ["Too many decimals."]}), {})
    assert response.status_code == 400
    assert response.data == {
        "code": "invalid",
        "detail": "Invalid input.",
        "errors": {"quantity": ["Too many decimals."]},
    }
    response = exception_handler(exceptions.ValidationError(["Nope."]), {})
    assert response.data["errors"] == {"non_field_errors": ["Nope."]}
    response = exception_handler(exceptions.ValidationError({"lot": "Single message."}), {})
    assert response.data["errors"] == {"lot": ["Single message."]}


def test_django_validation_errors_become_400():
    response = exception_handler(DjangoValidationError({"mining_country": ["Use a two-letter code."]}), {})
    assert response.status_code == 400
    assert response.data["errors"] == {"mining_country": ["Use a two-letter code."]}
    response = exception_handler(DjangoValidationError("Whole object is wrong."), {})
    assert response.data["errors"] == {"non_field_errors": ["Whole object is wrong."]}


def test_integrity_errors_become_409_without_leaking_sql():
    response = exception_handler(IntegrityError('duplicate key value violates "secret_index"'), {})
    assert response.status_code == 409
    assert "secret_index" not in str(response.data)


def test_other_api_errors_keep_their_status_with_a_code():
    response = exception_handler(exceptions.NotAuthenticated(), {})
    assert response.status_code == 401
    assert response.data == {"code": "not_authenticated", "detail": "Authentication credentials were not provided."}
    response = exception_handler(exceptions.PermissionDenied(), {})
    assert (response.status_code, response.data["code"]) == (403, "permission_denied")
    assert exception_handler(exceptions.MethodNotAllowed("PUT"), {}).status_code == 405


def test_unexpected_errors_are_left_to_django():
    assert exception_handler(RuntimeError("boom"), {}) is None
