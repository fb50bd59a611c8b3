"""Test settings: fast hashing, eager Celery unless a test asks for a real worker."""

from config.settings.base import *  # noqa: F403

SECRET_KEY = "test-secret-key"  # noqa: S105
DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Rates the tests that count attempts lower for themselves.
REST_FRAMEWORK = {  # noqa: F405
    **REST_FRAMEWORK,  # noqa: F405
    "DEFAULT_THROTTLE_RATES": {"auth": "1000/min", "password_reset": "1000/hour", "password_reset_email": "1000/hour"},
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
# Login lockouts are switched on by the tests that check them.
AXES_ENABLED = False
# The staff's second factor is switched on by the tests that check it (tests/accounts/test_second_factor.py).
VAULT_STAFF_OTP_REQUIRED = False
