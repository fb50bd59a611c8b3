"""The accounts app's typed errors (codes in docs/security.md)."""

from __future__ import annotations

from vault.core.errors import InvalidInput


class PasswordTooWeak(InvalidInput):
    """The password fails AUTH_PASSWORD_VALIDATORS; `messages` lists every validator's reason."""

    code = "password_too_weak"

    def __init__(self, *, messages: list[str]):
        super().__init__(" ".join(messages), field="password")
        self.messages = messages

    def as_dict(self) -> dict:
        return {**super().as_dict(), "errors": {"password": list(self.messages)}}
