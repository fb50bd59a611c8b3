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
