from vault.core.errors import DomainError


class IdempotencyKeyReused(DomainError):
    """The same Idempotency-Key was sent earlier with a different request (422)."""

    status_code = 422
    code = "idempotency_key_reused"
