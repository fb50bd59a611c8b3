"""Sessions end after a working day, however busy.

Django alone moves a session's expiry forward every time the session is saved, so an active
session could last for ever. Here each login stamps its session with the moment it happened; a
request made SESSION_COOKIE_AGE seconds or more after that moment is logged out before the view
runs (the view then answers as to anyone anonymous: the admin and the portal redirect to their
login page, the API answers 401/403). A staff user's session cookie is also a browser-session
cookie: it ends when the browser closes. Manufacturers keep a cookie of the same age as the cap.
"""

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse

LOGIN_AT = "vault_login_at"  # the session key: seconds since the epoch


@receiver(user_logged_in, dispatch_uid="vault.core.sessions.session_stamp")
def session_stamp(sender, request: HttpRequest | None, user, **kwargs) -> None:
    """Stamp the new session with its login time; staff sessions end with the browser."""
    session = getattr(request, "session", None)
    if session is None:
        return
    session[LOGIN_AT] = time.time()
    if user.is_staff:
        session.set_expiry(0)


class SessionLimitMiddleware:
    """Logs out a session whose login is SESSION_COOKIE_AGE seconds old or older (after
    AuthenticationMiddleware). A session without a stamp (opened before this existed) counts
    from the user's last login, which is never earlier than its own: nothing is written on a
    read."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            login_at = request.session.get(LOGIN_AT)
            if login_at is None and user.last_login is not None:
                login_at = user.last_login.timestamp()
            if login_at is not None and time.time() - float(login_at) >= settings.SESSION_COOKIE_AGE:
                logout(request)
        return self.get_response(request)
