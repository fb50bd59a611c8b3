"""The catalogue: materials and storage sites (depots).

Guarantees: a row's `code` is its natural key and never changes (`code_immutable`, and a
database trigger); an update writes only the editable fields whose value differs, under the
row's lock, with a history row saying who (nothing at all when none differs), and refuses any
other field (`field_not_editable`); a row still referenced is never deleted (`in_use`); a
site's capacity never goes below what it holds (`capacity_below_held`, under the site's lock,
the one every inflow's capacity check takes)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, TypeVar

from django.db import transaction
from django.db.models import ProtectedError

from vault.accounts.models import User
from vault.core.errors import Conflict, InvalidInput
from vault.core.history import history_as
from vault.inventory.models import Material, Site
from vault.inventory.parsing import editable_check
from vault.inventory.selectors import site_held
from vault.inventory.services._common import differing_save

MATERIAL_EDITABLE = ("name", "form", "grade", "coverage_target_days", "price_floor")
SITE_EDITABLE = ("name", "country", "custodian", "capacity_kg")

Row = TypeVar("Row", Material, Site)


def code_unchanged(*, instance: Material | Site, code: str) -> None:
    """A material's or site's code is its natural key, used by clients from the moment it is
    created: it never changes. Raises InvalidInput(`code_immutable`, field `code`) for another
    code; the database refuses the rename too (trigger, migration 0004)."""
    if instance.pk is not None and code != instance.code:
        raise InvalidInput(
            f"The code of {instance._meta.verbose_name} {instance.code} cannot be changed: clients address it by code.",
            field="code",
            code="code_immutable",
        )


def _catalogue_add(row: Row, *, by: User) -> Row:
    row.full_clean()
    history_as(row, by=by)
    row.save()
    return row


def _catalogue_update(row: Row, *, by: User, changes: dict[str, Any], editable: tuple[str, ...]) -> Row:
    """Lock `row`, apply the `changes` that differ from it, validate and save those."""
    if "code" in changes:
        code_unchanged(instance=row, code=changes.pop("code"))
    editable_check(changes, editable=editable)
    locked = type(row).objects.select_for_update(no_key=True).get(pk=row.pk)
    return differing_save(locked, changes=changes, by=by)


def _catalogue_delete(row: Material | Site, *, by: User) -> None:
    history_as(row, by=by)
    try:
        row.delete()
    except ProtectedError:
        raise Conflict(
            f"{str(row._meta.verbose_name).capitalize()} {row.code} is in use (lots, prices, forecasts…): it stays.",
            code="in_use",
        ) from None


@transaction.atomic
def material_create(
    *,
    by: User,
    code: str,
    name: str,
    form: str,
    grade: str = "",
    coverage_target_days: int = 60,
    price_floor: Decimal | None = None,
) -> Material:
    """Add a material to the catalogue. What the model refuses (a code taken or not in the
    format, an unknown form, a target below one day) raises its ValidationError, per field."""
    return _catalogue_add(
        Material(
            code=code,
            name=name,
            form=form,
            grade=grade,
            coverage_target_days=coverage_target_days,
            price_floor=price_floor,
        ),
        by=by,
    )


@transaction.atomic
def material_update(*, material: Material, by: User, **changes: Any) -> Material:
    """Change a material's `MATERIAL_EDITABLE` fields; its code never changes (`code_immutable`),
    another field is refused (InvalidInput on it). Only the values that differ are written, with
    a history row saying who; nothing at all when none does."""
    return _catalogue_update(material, by=by, changes=changes, editable=MATERIAL_EDITABLE)


@transaction.atomic
def material_delete(*, material: Material, by: User) -> None:
    """Remove a material nothing refers to (a history row keeps it); one in use raises Conflict
    (`in_use`): the database protects its lots, prices and forecasts."""
    _catalogue_delete(material, by=by)


@transaction.atomic
def site_create(
    *, by: User, code: str, name: str, country: str, custodian: str = "", capacity_kg: Decimal | None = None
) -> Site:
    """Add a storage site. What the model refuses (a code taken or not in the format, a country
    that is not an ISO 3166 code, a negative capacity) raises its ValidationError, per field."""
    return _catalogue_add(
        Site(code=code, name=name, country=country, custodian=custodian, capacity_kg=capacity_kg), by=by
    )


@transaction.atomic
def site_update(*, site: Site, by: User, **changes: Any) -> Site:
    """Change a site's `SITE_EDITABLE` fields, as `material_update` does a material's. A capacity
    below what the site holds now raises InvalidInput (`capacity_below_held`, field
    `capacity_kg`): the site row is locked first, as every inflow's capacity check locks it, so
    no receipt can slip in between the check and the change."""
    capacity = changes.get("capacity_kg")
    if capacity is not None:
        Site.objects.select_for_update(no_key=True).get(pk=site.pk)
        held = site_held(site=site)
        if capacity < held:
            raise InvalidInput(
                f"The site holds {held} kg; capacity cannot be less.", field="capacity_kg", code="capacity_below_held"
            )
    return _catalogue_update(site, by=by, changes=changes, editable=SITE_EDITABLE)


@transaction.atomic
def site_delete(*, site: Site, by: User) -> None:
    """Remove a site nothing refers to (a history row keeps it); one with lots or positions
    raises Conflict (`in_use`)."""
    _catalogue_delete(site, by=by)
