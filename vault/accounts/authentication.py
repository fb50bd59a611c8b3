"""The API's session authentication, held to the admin's rule: a staff session that has not
passed the second factor while it is required (on its way to enrolment) authenticates nothing,
so the browser that holds it reaches no more of the API than an anonymous one. Tokens are
another matter: the token endpoint takes a password only (docs/security.md)."""

from drf_spectacular.authentication import SessionScheme as SpectacularSessionScheme
from rest_framework import authentication

from vault.accounts.permissions import second_factor_passed


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
