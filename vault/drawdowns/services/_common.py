"""Helpers shared by the drawdown services: the request lock, the actor check and the record
of a state change. Lock order everywhere: request, then agreement or obligation, then lots by
id (the inventory services lock the lots and their positions)."""

from __future__ import annotations

from decimal import Decimal

from vault.accounts.models import User
from vault.accounts.permissions import is_manufacturer
from vault.core.errors import NotFound
from vault.core.outbox import outbox_enqueue
from vault.drawdowns.models import DrawdownRequest, DrawdownTransition

NOTIFY_STATUS = "vault.drawdowns.tasks.notify_status_changed"
NOTIFY_MANAGERS = "vault.drawdowns.tasks.notify_managers_submitted"


def request_lock(request: DrawdownRequest) -> DrawdownRequest:
    """The request's row, fresh and locked FOR NO KEY UPDATE: its writers queue behind one
    another without blocking the rows that reference it."""
    return DrawdownRequest.objects.select_for_update(no_key=True).get(pk=request.pk)


def actor_check(request: DrawdownRequest, by: User) -> None:
    """A manufacturer acts only on its own organization's requests: others' do not exist for it
    (NotFound, `drawdown_request_not_found`)."""
    if is_manufacturer(by) and by.organization_id != request.organization_id:
        raise NotFound(f"Drawdown request {request.pk} not found.", field="request", code="drawdown_request_not_found")


def transition_record(
    request: DrawdownRequest,
    *,
    to: str,
    by: User,
    comment: str = "",
    quantity: Decimal | None = None,
    fields: tuple[str, ...] = (),
) -> DrawdownTransition:
    """Move `request` (locked, and checked with `domain.transition_require`) to `to`, saving
    `fields` with the status, leave the transition row and enqueue the notification to the
    organization through the outbox."""
    from_status = request.status
    request.status = to
    request.save(update_fields=["status", *fields])
    transition = DrawdownTransition.objects.create(
        request=request, from_status=from_status, to_status=to, by=by, comment=comment or "", quantity=quantity
    )
    outbox_enqueue(NOTIFY_STATUS, request_id=request.pk, transition_id=transition.pk)
    return transition
