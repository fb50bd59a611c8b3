"""The accounts app's typed errors (codes in docs/security.md)."""

from __future__ import annotations

from vault.core.errors import Conflict, DomainError, InvalidInput


class PasswordTooWeak(InvalidInput):
    """The password fails AUTH_PASSWORD_VALIDATORS; `messages` lists every validator's reason."""

    code = "password_too_weak"

    def __init__(self, *, messages: list[str]):
        super().__init__(" ".join(messages), field="password")
        self.messages = messages

    def as_dict(self) -> dict:
        return {**super().as_dict(), "errors": {"password": list(self.messages)}}


class InvalidCredentials(InvalidInput):
    """The token endpoint's refusal: a wrong password, an unknown or inactive user, or a
    username locked out by django-axes all look the same (no account enumeration)."""

    code = "invalid_credentials"

    def __init__(self) -> None:
        super().__init__("Unable to log in with provided credentials.", field="non_field_errors")


class TokenLimitReached(Conflict):
    """The user already holds VAULT_API_TOKEN_LIMIT_PER_USER live API tokens."""

    code = "token_limit_reached"

    def __init__(self, *, limit: int) -> None:
        super().__init__(
            f"This user already holds {limit} live API tokens, the most allowed. Revoke one "
            "(DELETE /api/v1/auth/token/ with it) or wait for one to expire.",
            limit=limit,
        )


class TokenRequired(InvalidInput):
    """DELETE /api/v1/auth/token/ revokes the token the request is authenticated with: a
    session (or no token) names no token to revoke."""

    code = "token_required"

    def __init__(self) -> None:
        super().__init__(
            "Only a token revokes API tokens: send `Authorization: Token KEY` with the token to revoke "
            "(add ?all=true to revoke every token of its user). This request is authenticated by a session."
        )


class SecondFactorCodeInvalid(InvalidInput):
    """The code is not the authenticator's for now (nor 30 s before or after)."""

    code = "second_factor_code_invalid"

    def __init__(self):
        super().__init__("That code is not the one your authenticator app shows now.", field="token")


class SecondFactorAlreadyEnrolled(Conflict):
    """The user has an authenticator already: a superuser resets it before another is enrolled."""

    code = "second_factor_enrolled"

    def __init__(self):
        super().__init__("This user has an authenticator app already; a superuser resets it first.")


class SecondFactorNotEnrolled(Conflict):
    """Backup codes go with an authenticator: the user has none."""

    code = "second_factor_not_enrolled"

    def __init__(self):
        super().__init__("This user has no authenticator app: enrol one first.")


class SecondFactorResetRefused(DomainError):
    """Only a superuser resets another user's second factor."""

    status_code = 403
    code = "second_factor_reset_refused"

    def __init__(self):
        super().__init__("Only a superuser may reset a second factor.")
