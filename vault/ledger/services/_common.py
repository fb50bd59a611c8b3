"""Helpers shared by the ledger services."""

from __future__ import annotations

from typing import TypeVar

from vault.core.errors import Conflict
from vault.ledger.models import Decided

Request = TypeVar("Request", bound=Decided)


def undecided_lock(request: Request, state: str) -> Request:
    """The request's row locked FOR UPDATE, still in `state` (waiting for its decision); a request
    already decided is refused (409 `request_decided`), so two deciders cannot both act."""
    locked = type(request)._default_manager.select_for_update().get(pk=request.pk)
    if locked.state != state:
        raise Conflict(f"This request is already {locked.state}.", code="request_decided")
    return locked
