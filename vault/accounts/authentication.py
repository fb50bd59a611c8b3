"""API token authentication: django-rest-knox's, with the key checked for its shape first.

Clients send `Authorization: Token KEY`. knox looks a key up by its first characters and compares
SHA-512 digests; an expired token is deleted and refused, a token of an inactive user refused
(docs/security.md, "API tokens")."""

from __future__ import annotations

import string

from drf_spectacular.contrib.knox_auth_token import KnoxTokenScheme
from knox import auth as knox_auth
from knox.settings import knox_settings
from rest_framework import exceptions

HEX_DIGITS = frozenset(string.hexdigits.lower().encode())


def key_is_well_formed(key: bytes) -> bool:
    """Whether `key` could be one of knox's keys: the prefix, then AUTH_TOKEN_CHARACTER_LENGTH
    lowercase hex digits. Nothing else reaches the database."""
    prefix = knox_settings.TOKEN_PREFIX.encode()
    body = key[len(prefix) :]
    return (
        key.startswith(prefix)
        and len(body) == knox_settings.AUTH_TOKEN_CHARACTER_LENGTH
        and all(byte in HEX_DIGITS for byte in body)
    )


class TokenAuthentication(knox_auth.TokenAuthentication):
    """knox's TokenAuthentication, answering 401 (not 500) to a key that is not UTF-8 (knox
    decodes it unchecked), and sparing the database any key of the wrong shape (a NUL byte, an
    old 40-character DRF key, garbage)."""

    def authenticate_credentials(self, token: bytes):
        if not key_is_well_formed(token):
            raise exceptions.AuthenticationFailed("Invalid token.")
        return super().authenticate_credentials(token)


class TokenScheme(KnoxTokenScheme):
    """The OpenAPI security scheme of the class above (drf-spectacular's knox extension matches
    knox's class only, not subclasses); named as DRF's token scheme was."""

    target_class = "vault.accounts.authentication.TokenAuthentication"
    name = "tokenAuth"
