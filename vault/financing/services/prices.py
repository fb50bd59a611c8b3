"""Market prices of the materials: one at a time, a CSV import, a withdrawal, and the second
user's decision on a pending version.

Guarantees: price points are append-only (PostgreSQL trigger `financing_pricepoint_guard`,
TRUNCATE refused): a price of a material, day and source that exists is corrected by a new
version superseding the one in force, and withdrawn (the admin's delete) by a withdrawal
version; nothing is edited or deleted. Four eyes: a correction, a withdrawal, and a new price
that moves more than `price_move_confirm_pct()` percent from the material's price in force
before its day are recorded pending, unused by the valuation, until a finance user other than
the one who proposed it confirms it (409 `second_user_required`; a check constraint holds it)
or rejects it. A price is not negative; an import is all or nothing for bad rows (named by
line) and leaves the rows that need a second user pending, listed in its result. Nothing stored
depends on a price: the valuation reads the versions in force when asked."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date as date_type
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from vault.accounts.controls import role_require, second_user_require
from vault.accounts.models import User
from vault.accounts.roles import Role
from vault.core.errors import Conflict, InvalidInput
from vault.financing.models import PricePoint
from vault.financing.parsing import parse_price, price_rows_parse
from vault.financing.selectors import prices_in_force
from vault.inventory.models import Material

PENDING, CONFIRMED, REJECTED = PricePoint.Status.PENDING, PricePoint.Status.CONFIRMED, PricePoint.Status.REJECTED


def price_move_confirm_pct() -> Decimal:
    """`VAULT_PRICE_MOVE_CONFIRM_PCT`: a new price moving more than this percentage from the
    material's price in force needs a second user (default 20)."""
    return Decimal(str(getattr(settings, "VAULT_PRICE_MOVE_CONFIRM_PCT", 20)))


@dataclass(frozen=True)
class PriceImport:
    created: int  # new prices recorded (in force or pending)
    updated: int  # corrections recorded (pending)
    unchanged: int = 0  # rows equal to the price in force: nothing recorded
    pending: list[PricePoint] = field(default_factory=list)


def _moves_too_much(material_id: int, day: date_type, price: Decimal) -> bool:
    """Whether `price` moves more than the set percentage from the material's price in force
    on `day` (the latest on or before it, any source); a first price never does."""
    previous = prices_in_force().filter(material_id=material_id, date__lte=day).order_by("-date", "-id").first()
    if previous is None:
        return False
    if previous.usd_per_kg == 0:
        return price != 0
    return abs(price - previous.usd_per_kg) * 100 / previous.usd_per_kg > price_move_confirm_pct()


def _record(
    *, material_id: int, day: date_type, source: str, price: Decimal, by: User | None, withdraw: bool = False
) -> PricePoint | None:
    """Record a version of (material, day, source); None when `price` is already the one in force."""
    versions = PricePoint.objects.select_for_update().filter(material_id=material_id, date=day, source=source)
    # Locks the versions of the key (a second writer waits); the partial unique index
    # `price_point_one_pending` refuses a second pending version that no row lock could.
    list(versions)
    if versions.filter(status=PENDING).exists():
        raise Conflict(
            f"A version of the {source} price of {day} awaits a second user: confirm or reject it first.",
            field="date",
            code="price_pending",
        )
    current = versions.filter(status=CONFIRMED).order_by("-version").first()
    last = versions.aggregate(last=Max("version"))["last"] or 0
    if current is not None and not current.withdrawn and current.usd_per_kg == price and not withdraw:
        return None
    if current is not None or withdraw:
        status, supersedes = PENDING, current  # a correction or a withdrawal: always four eyes
    else:
        status = PENDING if _moves_too_much(material_id, day, price) else CONFIRMED
        supersedes = None
    return PricePoint.objects.create(
        material_id=material_id,
        date=day,
        source=source,
        usd_per_kg=price,
        version=last + 1,
        supersedes=supersedes,
        withdrawn=withdraw,
        status=status,
        confirmed_at=timezone.now() if status == CONFIRMED else None,
        created_by=by,
    )


@transaction.atomic
def price_point_create(
    *, material: Material, date: date_type, usd_per_kg: Decimal, source: str, by: User
) -> PricePoint:
    """Record one market price, its source named (`source_required`). For a material, day and
    source already priced it is a correction: a new version, pending until a second user
    confirms it (the same price: 409 `price_exists`; one pending version at a time: 409
    `price_pending`). A new price moving more than the set percentage is pending too."""
    price = parse_price(usd_per_kg)
    if not source.strip():
        raise InvalidInput(
            "Name the source of the price (an assessment, a quote).", field="source", code="source_required"
        )
    recorded = _record(material_id=material.pk, day=date, source=source.strip(), price=price, by=by)
    if recorded is None:
        raise Conflict(
            f"{material.code} already has this {source} price on {date}.", field="usd_per_kg", code="price_exists"
        )
    return recorded


@transaction.atomic
def price_point_withdraw(*, price_point: PricePoint, by: User) -> PricePoint:
    """Propose withdrawing a price recorded by mistake (the admin's delete): a withdrawal version
    superseding it, pending until a second user confirms it; the price stays in force meanwhile.
    Only the version in force is withdrawn (409 `price_not_in_force`)."""
    in_force = prices_in_force().filter(
        material_id=price_point.material_id, date=price_point.date, source=price_point.source
    )
    if not in_force.filter(pk=price_point.pk).exists():
        raise Conflict(
            f"{price_point} is not the price in force of its day and source: nothing to withdraw.",
            field="status",
            code="price_not_in_force",
        )
    recorded = _record(
        material_id=price_point.material_id,
        day=price_point.date,
        source=price_point.source,
        price=price_point.usd_per_kg,
        by=by,
        withdraw=True,
    )
    assert recorded is not None  # a withdrawal is always recorded
    return recorded


price_point_delete = price_point_withdraw  # the admin's delete is a withdrawal


def _decide(price_point: PricePoint, by: User, status: str, verb: str) -> PricePoint:
    role_require(by, Role.FINANCE, field="status")
    locked = PricePoint.objects.select_for_update().get(pk=price_point.pk)
    if locked.status != PENDING:
        raise Conflict(f"{locked} is not pending: it was decided already.", field="status", code="price_not_pending")
    second_user_require(locked.created_by_id, by, what=f"{verb} a price", field="status")
    locked.status, locked.confirmed_by, locked.confirmed_at = status, by, timezone.now()
    locked.save(update_fields=["status", "confirmed_by", "confirmed_at"])
    return locked


@transaction.atomic
def price_point_confirm(*, price_point: PricePoint, by: User) -> PricePoint:
    """Confirm a pending version (a finance user, 409 `role_required`, other than its proposer,
    409 `second_user_required`; 409 `price_not_pending`): it is in force from now on."""
    return _decide(price_point, by, CONFIRMED, "Confirming")


@transaction.atomic
def price_point_reject(*, price_point: PricePoint, by: User) -> PricePoint:
    """Reject a pending version (the same rules as confirming): the version in force stays."""
    return _decide(price_point, by, REJECTED, "Rejecting")


@transaction.atomic
def price_points_import(*, text: str, by: User | None, default_source: str = "") -> PriceImport:
    """Import prices from CSV text with a header `material,date,usd_per_kg,source` (source may
    be omitted when `default_source` is given). Any bad row raises InvalidInput (field `file`)
    listing the line numbers (`vault.financing.parsing.price_rows_parse`), and a row whose day
    and source has a pending version 409 `price_pending`: nothing is recorded. A row equal to
    the price in force records nothing; a row for a day and source already priced is a
    correction, pending; a new price moving more than the set percentage is pending (rows
    compared in date order, each with the prices in force before it). `by` is None for the
    `import_prices` command, which runs as no user."""
    materials = dict(Material.objects.values_list("code", "pk"))
    parsed = price_rows_parse(text, materials=materials, default_source=default_source)
    created = updated = unchanged = 0
    pending = []
    for (material_id, day, source), price in sorted(parsed.items(), key=lambda kv: (kv[0][1], kv[0][0], kv[0][2])):
        recorded = _record(material_id=material_id, day=day, source=source, price=price, by=by)
        if recorded is None:
            unchanged += 1
            continue
        if recorded.supersedes_id is not None:
            updated += 1
        else:
            created += 1
        if recorded.status == PENDING:
            pending.append(recorded)
    return PriceImport(created=created, updated=updated, unchanged=unchanged, pending=pending)
