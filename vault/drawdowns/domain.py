"""Pure drawdown rules, no database: the allowed transitions, the terms a request must meet
given the facts the services read (today, whether a disruption is declared, the agreement's
window), the allocation of a quantity over lots, the figures of a fulfilment and the limits of
a disruption's dates. Each check raises the typed error the services document."""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from dataclasses import asdict, dataclass, fields
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, TypeVar

from django.conf import settings

from vault.core.errors import InvalidInput, InvalidTransition
from vault.drawdowns.models import DrawdownRequest

Status = DrawdownRequest.Status
Priority = DrawdownRequest.Priority
QUANTUM = Decimal("0.001")
CENT = Decimal("0.01")

ALLOWED: dict[str, set[str]] = {
    Status.DRAFT: {Status.SUBMITTED, Status.CANCELLED},
    Status.SUBMITTED: {Status.AWAITING_SECOND_APPROVAL, Status.APPROVED, Status.REJECTED, Status.CANCELLED},
    Status.AWAITING_SECOND_APPROVAL: {Status.APPROVED, Status.REJECTED, Status.CANCELLED},
    Status.APPROVED: {Status.FULFILLED, Status.CANCELLED},
    Status.FULFILLED: {Status.REPLENISHED},
    Status.REPLENISHED: set(),
    Status.REJECTED: set(),
    Status.CANCELLED: set(),
}

_VERB: dict[str, str] = {
    Status.SUBMITTED: "submitted",
    Status.AWAITING_SECOND_APPROVAL: "given a first approval",
    Status.APPROVED: "approved",
    Status.REJECTED: "rejected",
    Status.FULFILLED: "fulfilled",
    Status.REPLENISHED: "marked replenished",
    Status.CANCELLED: "cancelled",
}


# --- transitions -----------------------------------------------------------------------------


def can_move(status: str, to: str) -> bool:
    """Whether a request in `status` may move to `to` (`ALLOWED`; an unknown status goes nowhere)."""
    return to in ALLOWED.get(status, set())


def transition_require(request: DrawdownRequest, to: str) -> None:
    """InvalidTransition (409, `status`) unless `request` may move to `to`."""
    if not can_move(request.status, to):
        raise InvalidTransition(
            f"Drawdown {request.number} is {request.status}; it cannot be {_VERB.get(to, to)}.",
            field="status",
            status=request.status,
        )


# --- a request's terms -----------------------------------------------------------------------


@dataclass(frozen=True)
class RequestTerms:
    """What a request asks for: the rules below hold for them when the request is created and
    again when it is submitted."""

    quantity: Decimal
    needed_by: date | None
    priority: str
    replenish_by: date | None

    @classmethod
    def of(cls, request: DrawdownRequest) -> RequestTerms:
        return cls(**{field.name: getattr(request, field.name) for field in fields(cls)})

    def as_fields(self) -> dict[str, Any]:
        """The terms as the request's field values."""
        return asdict(self)


def request_dates_check(terms: RequestTerms, *, today: date) -> None:
    """A known priority (`priority_unknown`) and a needed-by date (`needed_by_required`) not
    before `today` (`needed_by_in_past`)."""
    priority, needed_by = terms.priority, terms.needed_by
    if priority not in Priority.values:
        raise InvalidInput(
            f"Unknown priority {priority!r}; choose one of {', '.join(Priority.values)}.",
            field="priority",
            code="priority_unknown",
        )
    if needed_by is None:
        raise InvalidInput("Say by when the material is needed.", field="needed_by", code="needed_by_required")
    if needed_by < today:
        raise InvalidInput(
            f"The needed-by date {needed_by} is in the past.", field="needed_by", code="needed_by_in_past"
        )


def request_window_check(
    terms: RequestTerms,
    *,
    today: date,
    in_disruption: bool,
    material_code: str,
    replenishment_days: int,
) -> None:
    """The disruption priority only while a disruption is declared (`no_disruption_declared`);
    outside one a replenishment commitment date (`replenish_by_required`); the date, when
    given, within the agreement's window from `today` (`replenish_by_outside_window`)."""
    priority, replenish_by = terms.priority, terms.replenish_by
    if priority == Priority.DISRUPTION and not in_disruption:
        raise InvalidInput(
            f"No supply disruption is declared for {material_code}; use routine or defense-rated.",
            field="priority",
            code="no_disruption_declared",
        )
    window_end = today + timedelta(days=replenishment_days)
    if replenish_by is None and not in_disruption:
        raise InvalidInput(
            f"Outside a declared disruption a draw needs a replenishment commitment date "
            f"(on or before {window_end}, your {replenishment_days}-day window).",
            field="replenish_by",
            code="replenish_by_required",
        )
    if replenish_by is not None and not (today <= replenish_by <= window_end):
        raise InvalidInput(
            f"The replenishment commitment date must fall between {today} and {window_end} "
            f"(your {replenishment_days}-day window).",
            field="replenish_by",
            code="replenish_by_outside_window",
        )


# --- approval and fulfilment -----------------------------------------------------------------


@dataclass(frozen=True)
class SecondApprovalLimits:
    """Above either limit an approval takes a second manager: `kg` approved, or `usd` (the
    approved quantity at the agreement's locked price)."""

    kg: Decimal
    usd: Decimal

    def exceeded_by(self, *, quantity: Decimal, locked_price: Decimal) -> bool:
        return quantity > self.kg or money(quantity * locked_price) > self.usd

    def describe(self) -> str:
        return f"more than {self.kg} kg or {self.usd} USD at the locked price"


def second_approval_note(request: DrawdownRequest) -> str | None:
    """What a request awaiting a second approval waits for, in words (None otherwise): one text
    for the API, the admin and the portal."""
    if request.status != Status.AWAITING_SECOND_APPROVAL:
        return None
    return (
        f"A second approval is needed: {request.first_approved_quantity} kg was approved by "
        f"{request.first_approved_by.get_username() if request.first_approved_by else 'a manager'}, above the "
        "second-approval limits; another manager must approve it before any stock is reserved."
    )


def second_approval_limits() -> SecondApprovalLimits:
    """The limits in force: VAULT_DRAWDOWN_SECOND_APPROVAL_KG and _USD (the one place they are read)."""
    return SecondApprovalLimits(
        kg=Decimal(str(getattr(settings, "VAULT_DRAWDOWN_SECOND_APPROVAL_KG", "5000"))),
        usd=Decimal(str(getattr(settings, "VAULT_DRAWDOWN_SECOND_APPROVAL_USD", "350000"))),
    )


K = TypeVar("K", bound=Hashable)


def allocate(*, free: Iterable[tuple[K, Decimal]], quantity: Decimal) -> list[tuple[K, Decimal]]:
    """Spread `quantity` over `free` (key, free quantity) in the order given, taking all of each
    one's free quantity until the last: the parts add up to `quantity` when the free quantities
    suffice (the caller checks that first) and no part exceeds its free quantity."""
    parts: list[tuple[K, Decimal]] = []
    left = quantity
    for key, available in free:
        if left <= 0:
            break
        take = min(available, left)
        parts.append((key, take))
        left -= take
    return parts


def money(amount: Decimal) -> Decimal:
    """USD to the cent, half up."""
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Fulfilment:
    """What a draw of `drawn` kg owes and is charged: the premium in kind (kg, to the gram,
    half up) and the sale and premium values at the locked price (USD, to the cent)."""

    drawn: Decimal
    premium: Decimal
    sale: Decimal
    premium_value: Decimal

    @property
    def quantity_due(self) -> Decimal:
        return self.drawn + self.premium

    @property
    def receivable(self) -> Decimal:
        return self.sale + self.premium_value


def fulfilment_figures(*, drawn: Decimal, premium_pct: Decimal, locked_price: Decimal) -> Fulfilment:
    premium = (drawn * premium_pct / Decimal("100")).quantize(QUANTUM, rounding=ROUND_HALF_UP)
    return Fulfilment(
        drawn=drawn,
        premium=premium,
        sale=money(drawn * locked_price),
        premium_value=money(premium * locked_price),
    )


# --- disruptions -----------------------------------------------------------------------------


def disruption_dates_check(*, starts_on: date, ends_on: date, today: date) -> None:
    """A disruption starts no more than VAULT_DISRUPTION_MAX_BACKDATE_DAYS before `today` (nor
    more than VAULT_DISRUPTION_MAX_LEAD_DAYS after it), ends on or after its start (a one-day
    disruption ends on the day it starts; the database CHECKs this too), and lasts at most
    VAULT_DISRUPTION_MAX_DAYS days, both ends included. Otherwise InvalidInput with code
    `disruption_dates_out_of_range` on `starts_on` or `ends_on`, the limit in the body."""

    def out_of_range(message: str, field: str, **limit: str) -> InvalidInput:
        return InvalidInput(message, field=field, code="disruption_dates_out_of_range", **limit)

    earliest = today - timedelta(days=settings.VAULT_DISRUPTION_MAX_BACKDATE_DAYS)
    if starts_on < earliest:
        raise out_of_range(
            f"A disruption starts at most {settings.VAULT_DISRUPTION_MAX_BACKDATE_DAYS} days back, "
            f"on {earliest.isoformat()} or later.",
            "starts_on",
            earliest_starts_on=earliest.isoformat(),
        )
    latest = today + timedelta(days=settings.VAULT_DISRUPTION_MAX_LEAD_DAYS)
    if starts_on > latest:
        raise out_of_range(
            f"A disruption is declared at most {settings.VAULT_DISRUPTION_MAX_LEAD_DAYS} days ahead, "
            f"starting on {latest.isoformat()} or earlier.",
            "starts_on",
            latest_starts_on=latest.isoformat(),
        )
    if ends_on < starts_on:
        raise out_of_range("The disruption cannot end before it starts.", "ends_on")
    days = (ends_on - starts_on).days + 1
    if days > settings.VAULT_DISRUPTION_MAX_DAYS:
        # Computed from starts_on (sane by now), never from ends_on, which may be 9999-12-31.
        last = starts_on + timedelta(days=settings.VAULT_DISRUPTION_MAX_DAYS - 1)
        raise out_of_range(
            f"A disruption lasts at most {settings.VAULT_DISRUPTION_MAX_DAYS} days: it ends on "
            f"{last.isoformat()} or earlier (declare another one to extend it).",
            "ends_on",
            latest_ends_on=last.isoformat(),
        )


# --- agreements ------------------------------------------------------------------------------


def agreement_terms_check(
    *, locked_price: Decimal, replenishment_days: int, premium_pct: Decimal, upfront_fee: Decimal
) -> None:
    """An agreement's price (`price_negative`), premium (`premium_negative`) and upfront fee
    (`fee_negative`) are not negative and its replenishment window is at least a day
    (`replenishment_window_too_short`); a missing value counts as out of range."""
    if locked_price is None or locked_price < 0:
        raise InvalidInput("The locked price cannot be negative.", field="locked_price", code="price_negative")
    if replenishment_days is None or replenishment_days < 1:
        raise InvalidInput(
            "The replenishment window is at least one day.",
            field="replenishment_days",
            code="replenishment_window_too_short",
        )
    if premium_pct is None or premium_pct < 0:
        raise InvalidInput("The premium cannot be negative.", field="premium_pct", code="premium_negative")
    if upfront_fee is None or upfront_fee < 0:
        raise InvalidInput("The upfront fee cannot be negative.", field="upfront_fee", code="fee_negative")
