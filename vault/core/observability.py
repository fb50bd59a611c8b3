"""Error reporting: Sentry when a DSN is configured, nothing at all otherwise."""

from __future__ import annotations


def sentry_init(*, dsn: str, environment: str, release: str | None, traces_sample_rate: float) -> bool:
    """Start the Sentry SDK with the Django and Celery integrations when `dsn` is set.

    Returns whether it started. Without a DSN the SDK is not even imported, so no event can
    leave the process. Personal data (cookies, user e-mail, request bodies) is not sent."""
    if not dsn:
        return False
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration

    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        release=release,
        traces_sample_rate=traces_sample_rate,
        send_default_pii=False,
        integrations=[DjangoIntegration(), CeleryIntegration(monitor_beat_tasks=False)],
    )
    return True
