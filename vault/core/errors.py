"""Typed domain errors with stable codes. Services raise them; one handler turns them into
HTTP responses (see vault.core.exceptions), and admin forms show them as field errors."""

from __future__ import annotations


class DomainError(Exception):
    """A rule of the business refused the operation; nothing was written."""

    status_code = 400
    code = "invalid"

    def __init__(self, message: str, *, field: str | None = None, code: str | None = None, **extra):
        super().__init__(message)
        self.message = message
        self.field = field
        if code:
            self.code = code
        self.extra = extra

    def as_dict(self) -> dict:
        body: dict = {"code": self.code, "detail": self.message}
        if self.field:
            body["errors"] = {self.field: [self.message]}
        body.update({k: str(v) for k, v in self.extra.items()})
        return body


class InvalidInput(DomainError):
    status_code = 400
    code = "invalid"


class NotFound(DomainError):
    status_code = 404
    code = "not_found"


class Conflict(DomainError):
    """The request is well formed but conflicts with the current state (409)."""

    status_code = 409
    code = "conflict"


class InsufficientStock(Conflict):
    code = "insufficient_stock"


class InvalidTransition(Conflict):
    code = "invalid_transition"
