"""Production: every secret from the environment; passes `manage.py check --deploy`."""

import os

from django.core.exceptions import ImproperlyConfigured

from config.settings.base import *  # noqa: F403
from config.settings.base import env_bool
from vault.core.logging import logging_config

DEBUG = False
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if len(SECRET_KEY) < 50:
    raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set to at least 50 random characters.")

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
# Probes and scrapes come over plain HTTP to the pod; ProbeMiddleware answers them first anyway.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
SECURE_HSTS_SECONDS = int(os.environ.get("DJANGO_SECURE_HSTS_SECONDS", "31536000"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_SECURE = True
X_FRAME_OPTIONS = "DENY"
# Every staff user passes a second factor to use the admin (enrolment at the first login).
VAULT_STAFF_OTP_REQUIRED = env_bool("VAULT_STAFF_OTP_REQUIRED", True)
# The OpenAPI schema and Swagger UI only for logged-in users (token or session).
VAULT_API_DOCS_PUBLIC = env_bool("VAULT_API_DOCS_PUBLIC", False)

# One JSON object a line, for the log shipper (LOG_FORMAT=console to read them by eye).
LOG_FORMAT = os.environ.get("LOG_FORMAT", "json").strip().lower()
LOGGING = logging_config(level=LOG_LEVEL, fmt=LOG_FORMAT)  # noqa: F405

# Static files under content-hashed names (`admin/css/base.1a2b3c4d5e6f.css`), with gzip (and
# Brotli when installed) variants written by `collectstatic`: WhiteNoise serves those names with
# `Cache-Control: max-age=315360000, public, immutable`, and a deploy changes the names of the
# files it changes. `collectstatic` must run before the processes start (the manifest it writes,
# STATIC_ROOT/staticfiles.json, is read at startup; a name missing from it is an error).
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
