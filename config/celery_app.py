import logging.config
import os

from celery import Celery, signals
from django_structlog.celery.steps import DjangoStructLogInitStep

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = Celery("vault")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# Task log lines carry the task id and the request_id of the request that enqueued the task.
app.steps["worker"].add(DjangoStructLogInitStep)


@signals.setup_logging.connect
def _logging_from_settings(**kwargs) -> None:
    """Workers and beat log as the web does (settings.LOGGING: LOG_FORMAT, LOG_LEVEL), not in
    Celery's own format; `--loglevel` is then ignored in favour of LOG_LEVEL."""
    from django.conf import settings

    logging.config.dictConfig(settings.LOGGING)
