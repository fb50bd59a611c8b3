"""Period close: the books' lock date, moved forward by one finance user (a close) and back only
by two (a reopening asked by one, approved by another). Every move appends a PeriodClose row."""

from __future__ import annotations

from datetime import date as date_type

from django.db import IntegrityError, transaction
from django.utils import timezone

from vault.accounts.controls import role_require, second_user_require
from vault.accounts.models import User
from vault.accounts.roles import Role
from vault.core.errors import Conflict, InvalidInput
from vault.ledger.models import Books, PeriodClose, ReopenRequest
from vault.ledger.services._common import undecided_lock
from vault.ledger.signals import period_closing


def _books_lock() -> Books:
    """The books' row, locked FOR UPDATE (created the first time): postings in flight finish
    first, and postings that follow wait for this transaction and then see its lock date."""
    Books.objects.bulk_create([Books(pk=1)], ignore_conflicts=True)
    return Books.objects.select_for_update().get(pk=1)


@transaction.atomic
def period_close(*, through: date_type, by: User) -> PeriodClose:
    """Close the books through `through`: from then on nothing is posted with a business date on
    or before it. Refuses a day that has not ended (400 `close_not_past`), a date not after the
    current lock date (409 `period_already_closed`), a user outside finance (409 `role_required`), and whatever a
    `period_closing` receiver refuses (interest not accrued through the date)."""
    role_require(by, Role.FINANCE, field="through")
    if through >= timezone.localdate():
        raise InvalidInput(
            f"Only days that have ended can be closed: {through} is not before today.",
            field="through",
            code="close_not_past",
        )
    books = _books_lock()
    if books.closed_through is not None and through <= books.closed_through:
        raise Conflict(
            f"The books are already closed through {books.closed_through}.",
            field="through",
            code="period_already_closed",
            closed_through=books.closed_through,
        )
    period_closing.send(sender=None, through=through)
    event = PeriodClose.objects.create(kind=PeriodClose.Kind.CLOSE, through=through, requested_by=by)
    books.closed_through = through
    books.save(update_fields=["closed_through"])
    return event


@transaction.atomic
def period_reopen_request(*, through: date_type | None, reason: str, by: User) -> ReopenRequest:
    """Ask to move the lock date back to `through` (None: open every day). Needs a reason (400
    `reason_required`), closed books (409 `period_not_closed`), a date before the lock date (400
    `reopen_not_earlier`) and no other pending request (409 `reopen_pending`)."""
    role_require(by, Role.FINANCE, field="through")
    if not reason.strip():
        raise InvalidInput("Say why the period must be reopened.", field="reason", code="reason_required")
    books = _books_lock()
    if books.closed_through is None:
        raise Conflict("No period is closed.", field="through", code="period_not_closed")
    if through is not None and through >= books.closed_through:
        raise InvalidInput(
            f"A reopening moves the lock date back: {through} is not before {books.closed_through}.",
            field="through",
            code="reopen_not_earlier",
        )
    try:
        with transaction.atomic():
            return ReopenRequest.objects.create(through=through, reason=reason.strip()[:300], requested_by=by)
    except IntegrityError:
        raise Conflict("Another reopening is waiting for approval.", field="through", code="reopen_pending") from None


@transaction.atomic
def period_reopen_approve(*, request: ReopenRequest, by: User) -> PeriodClose:
    """Approve a pending reopening: a finance user other than the one who asked (409
    `second_user_required`; a check constraint holds it too). The lock date moves back to the
    request's date, and a PeriodClose row records both users."""
    role_require(by, Role.FINANCE, field="request")
    books = _books_lock()
    request = undecided_lock(request, ReopenRequest.State.PENDING)
    second_user_require(request.requested_by_id, by, what="Reopening the books", field="request")
    if books.closed_through is None or (request.through is not None and request.through >= books.closed_through):
        raise Conflict("The books moved since this request: ask again.", field="request", code="request_stale")
    event = PeriodClose.objects.create(
        kind=PeriodClose.Kind.REOPEN,
        through=request.through,
        requested_by_id=request.requested_by_id,
        approved_by=by,
        reason=request.reason,
    )
    books.closed_through = request.through
    books.save(update_fields=["closed_through"])
    request.decide(ReopenRequest.State.APPROVED, by=by)
    return event


@transaction.atomic
def period_reopen_reject(*, request: ReopenRequest, by: User) -> ReopenRequest:
    """Reject (or, by the one who asked, withdraw) a pending reopening; the books do not move."""
    role_require(by, Role.FINANCE, field="request")
    request = undecided_lock(request, ReopenRequest.State.PENDING)
    request.decide(ReopenRequest.State.REJECTED, by=by)
    return request
