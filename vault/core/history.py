"""Who changed a row and why: the one way services tell django-simple-history.

A model with `history = HistoricalRecords()` writes a historical row on every save; the row's
`history_user` and `history_change_reason` come from the attributes django-simple-history reads
on the instance being saved. `history_as` sets them, typed, in one place; the services call it
before each save of a recorded model (the admin's request user is django-simple-history's
fallback, through HistoryRequestMiddleware, for saves outside a service)."""

from __future__ import annotations

from typing import Any

from django.db.models import Model


def history_as(row: Model, *, by: Any, reason: str = "") -> None:
    """The next save of `row` is recorded as done by `by` (a user, or None for the system), with
    `reason` when one is given."""
    row._history_user = by  # type: ignore[attr-defined]  # django-simple-history's hook
    if reason:
        row._change_reason = reason  # type: ignore[attr-defined]  # django-simple-history's hook
