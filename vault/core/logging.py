"""Logging: one structured event a line, as JSON in production and as readable text locally.

`logging_config(level=..., fmt=...)` is the `LOGGING` dict of the settings. Both standard-library
loggers and structlog loggers go through the same formatter, so every line carries the
structlog context bound for the request (django-structlog's `RequestMiddleware`: `request_id`,
`user`, `organization`, `ip`) or for the Celery task (`task_id` and the `request_id` of the
request that enqueued it). A JSON line has `time` (UTC, ISO 8601), `level`, `logger`,
`message` and the context; every request logs one line (`request_finished`, with its status)."""

from __future__ import annotations

import logging
from typing import Any

import structlog

FORMATS = ("json", "console")


def _rename_user(_logger: Any, _method: str, event: dict) -> dict:
    """django-structlog binds the user as `user_id` (here its username): call it `user`."""
    if "user_id" in event:
        event["user"] = event.pop("user_id")
    return event


def _shared_processors() -> list:
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True, key="time"),
        _rename_user,
    ]


def parse_level(value: str | None, default: str = "INFO") -> str:
    """`LOG_LEVEL` in any case (`warning`, `Warning`, `WARNING`); an unknown name is refused
    with the list of valid ones rather than a worker that fails to boot with a traceback."""
    level = (value or default).strip().upper()
    if not isinstance(logging.getLevelName(level), int):
        raise ValueError(f"LOG_LEVEL={value!r}: use one of DEBUG, INFO, WARNING, ERROR, CRITICAL.")
    return level


def logging_config(*, level: str, fmt: str) -> dict:
    """The `LOGGING` dict: the root logger writes to stderr in format `fmt` at `level`."""
    if fmt not in FORMATS:
        raise ValueError(f"LOG_FORMAT={fmt!r}: use one of {', '.join(FORMATS)}.")
    final = (
        [structlog.processors.EventRenamer("message"), structlog.processors.JSONRenderer()]
        if fmt == "json"
        else [structlog.dev.ConsoleRenderer(colors=False)]
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "vault": {
                "()": structlog.stdlib.ProcessorFormatter,
                "foreign_pre_chain": [*_shared_processors(), structlog.stdlib.ExtraAdder()],
                "processors": [
                    structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                    structlog.processors.format_exc_info,
                    *final,
                ],
            }
        },
        "filters": {"require_debug_false": {"()": "django.utils.log.RequireDebugFalse"}},
        "handlers": {
            "console": {"class": "logging.StreamHandler", "formatter": "vault"},
            # Django's own: errors of requests e-mailed to ADMINS (when DEBUG is off).
            "mail_admins": {
                "level": "ERROR",
                "class": "django.utils.log.AdminEmailHandler",
                "filters": ["require_debug_false"],
            },
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            # Replaces Django's default `django` logger, whose console handler would print twice.
            "django": {"handlers": ["mail_admins"], "level": level, "propagate": True},
            # runserver's own access line repeats django-structlog's request line.
            "django.server": {"level": "WARNING"},
            # A 4xx is logged once, by django-structlog, with the request's context.
            "django.request": {"level": "ERROR"},
        },
    }


def structlog_configure() -> None:
    """structlog loggers hand their events to the standard library's handlers (above)."""
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *_shared_processors(),
            structlog.processors.StackInfoRenderer(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )


def bind_request_context(request, logger, **kwargs) -> None:
    """Receiver of django-structlog's request signals: the client's address (by the one rule of
    `vault.core.throttles.client_ip`, which believes forwarded headers only from the configured
    proxies) and the user's organization (its id, read from the user row already loaded, so that
    logging adds no query)."""
    from vault.core.throttles import client_ip

    structlog.contextvars.bind_contextvars(ip=client_ip(request))
    user = getattr(request, "user", None)
    organization_id = getattr(user, "organization_id", None)
    if organization_id is not None:
        structlog.contextvars.bind_contextvars(organization=organization_id)
