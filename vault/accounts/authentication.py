"""The API's authentication: django-rest-knox's tokens, with the key checked for its shape first,
and DRF's session authentication held to the admin's rule on the second factor.

Clients send `Authorization: Token KEY`. knox looks a key up by its first characters and compares
SHA-512 digests; an expired token is deleted and refused, a token of an inactive user refused
(docs/security.md, "API tokens"). A staff session that has not passed the second factor while it
is required (on its way to enrolment) authenticates nothing, so the browser that holds it reaches
no more of the API than an anonymous one; the token endpoint takes a password only
(docs/security.md, "Second factor for staff")."""

from __future__ import annotations

import string

from drf_spectacular.authentication import SessionScheme as SpectacularSessionScheme
from drf_spectacular.contrib.knox_auth_token import KnoxTokenScheme
from knox import auth as knox_auth
from knox.settings import knox_settings
from rest_framework import authentication, exceptions

from vault.accounts.permissions import second_factor_passed

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


class SessionAuthentication(authentication.SessionAuthentication):
    def authenticate(self, request):
        result = super().authenticate(request)
        if result is not None and not second_factor_passed(result[0]):
            return None
        return result


class SessionScheme(SpectacularSessionScheme):
    """The schema describes it as DRF's session cookie (drf-spectacular finds this extension
    when DRF loads the class above)."""

    target_class = "vault.accounts.authentication.SessionAuthentication"
