"""The tests' clock. Every test runs at a fixed business moment, 10:00 on `TEST_TODAY` in Vault's
time zone (settings.TIME_ZONE): `VAULT_TEST_TODAY` (an ISO date) or, by default, an ordinary
mid-month day, so that no result depends on the day the suite runs. The root conftest travels
there (time-machine, the clock ticking) around each test; a test that needs another day travels
itself with `travel_to`. Tests marked `real_clock` keep the real clock: they start subprocesses
(gunicorn, Celery workers) that cannot travel, and must not depend on the date some other way.
`VAULT_TEST_TODAY=real` keeps the real clock for the whole run."""

import os
from contextlib import contextmanager
from datetime import UTC, date, datetime, time

import time_machine
from django.utils import timezone

DEFAULT_TODAY = "2026-11-16"  # a Monday in mid-month: no month, quarter or year end, no DST change
_CHOSEN = os.environ.get("VAULT_TEST_TODAY") or DEFAULT_TODAY
# VAULT_TEST_TODAY=real: no travel at all (to show that the suite passes on the real day too).
TEST_TODAY: date | None = None if _CHOSEN == "real" else date.fromisoformat(_CHOSEN)
BUSINESS_HOUR = time(10)


def business_moment(day: date, at: time = BUSINESS_HOUR) -> datetime:
    """`at` o'clock on `day` in Vault's time zone, as an aware UTC datetime."""
    return datetime.combine(day, at, tzinfo=timezone.get_default_timezone()).astimezone(UTC)


@contextmanager
def travel_to(day: date, at: time = BUSINESS_HOUR, *, tick: bool = True):
    """Run the block at `at` on `day` in Vault's time zone (nests inside the per-test travel)."""
    with time_machine.travel(business_moment(day, at), tick=tick) as traveller:
        yield traveller
