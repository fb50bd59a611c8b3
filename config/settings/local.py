"""Development and `make run`: DEBUG on, a fixed development secret."""

import os

from config.settings.base import *  # noqa: F403
from config.settings.base import env_bool

DEBUG = env_bool("DJANGO_DEBUG", True)
SECRET_KEY = SECRET_KEY or "dev-only-insecure-key-change-me"  # noqa: F405

# Demo e-mails (drawdown notifications, alerts) are written to files, one per message, instead
# of filling the terminal of `make run`.
if "EMAIL_BACKEND" not in os.environ and not EMAIL_HOST:  # noqa: F405
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = str(VAR_DIR / "mail")  # noqa: F405
