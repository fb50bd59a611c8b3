"""Consumption forecasts: uploads (a CSV file or one row) stored as versions.

Guarantees: an upload is all-or-nothing: any bad row raises `ForecastRowsInvalid` listing every
bad row, and nothing is written. A new version supersedes the current rows it replaces in the
same transaction, under the materials' row locks, so a material, organization and month never
has two current rows."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from typing import IO, Literal

from django.conf import settings
from django.db import transaction
from django.db.models import Q

from vault.accounts.models import Organization, User
from vault.core.errors import InvalidInput
from vault.coverage import parsing
from vault.coverage.models import ConsumptionForecast, ForecastVersion
from vault.coverage.parsing import ForecastRow, cell
from vault.coverage.services._common import materials_lock
from vault.coverage.services.checks import coverage_recheck_enqueue
from vault.inventory.models import Material

Replace = Literal["material", "month"]


def forecast_rows_parse(
    *, rows: Iterable[Mapping[str, str]], first_row_number: int = 2, max_rows: int | None = None
) -> list[ForecastRow]:
    """Validate raw rows ({material, month, quantity, organization?} as text). Raises
    `too_many_rows` past `max_rows` (`VAULT_FORECAST_MAX_ROWS`), `no_rows`, or
    `ForecastRowsInvalid` with every bad row; codes are resolved in two queries."""
    max_rows = max_rows or int(getattr(settings, "VAULT_FORECAST_MAX_ROWS", 200_000))
    raw_rows = parsing.forecast_rows_bounded(rows, max_rows=max_rows)
    material_codes = {cell(r, "material") for r in raw_rows}
    organization_codes = {cell(r, "organization") for r in raw_rows} - {""}
    return parsing.forecast_rows_validate(
        raw_rows,
        materials=dict(Material.objects.filter(code__in=material_codes).values_list("code", "pk")),
        organizations=dict(Organization.objects.filter(code__in=organization_codes).values_list("code", "pk")),
        first_row_number=first_row_number,
    )


def _current_replaced(rows: list[ForecastRow], replace: Replace) -> Q:
    """The current rows a version of `rows` replaces: every row of each material and
    organization it covers (`material`), or of each material, organization and month (`month`)."""
    groups: dict[tuple, set[int]] = defaultdict(set)
    for r in rows:
        key: tuple = (r.organization_id,) if replace == "material" else (r.organization_id, r.month)
        groups[key].add(r.material_id)
    condition = Q()
    for key, ids in groups.items():
        part = Q(organization_id=key[0]) if key[0] is not None else Q(organization__isnull=True)
        if replace == "month":
            part &= Q(month=key[1])
        condition |= part & Q(material_id__in=sorted(ids))
    return condition & Q(superseded_by__isnull=True)


@transaction.atomic
def forecast_upload(
    *, rows: list[ForecastRow], by: User, source: str, note: str = "", replace: Replace = "material"
) -> ForecastVersion:
    """Store `rows` as a new forecast version. `replace="material"` (a file upload): the new
    version supersedes every current row of each material and organization it covers.
    `replace="month"` (one row): only the current row of that material, organization and month.
    Raises `no_rows` for an empty upload; a recheck of the materials follows the commit."""
    if not rows:
        raise InvalidInput("The upload has no rows.", field="file", code="no_rows")
    if replace not in ("material", "month"):
        raise ValueError(replace)
    material_ids = sorted({r.material_id for r in rows})
    # Serialize uploads for the same materials so two never leave two current rows.
    materials_lock(material_ids)
    version = ForecastVersion.objects.create(created_by=by, source=source[:200], note=note[:300], row_count=len(rows))
    superseded = ConsumptionForecast.objects.filter(_current_replaced(rows, replace)).update(superseded_by=version)
    # A row's fields are the model's: material_id, organization_id, month, quantity.
    ConsumptionForecast.objects.bulk_create(
        [ConsumptionForecast(version=version, **vars(r)) for r in rows], batch_size=5000
    )
    if superseded:
        version.superseded_count = superseded
        version.save(update_fields=["superseded_count"])
    coverage_recheck_enqueue(material_ids=material_ids)
    return version


def forecast_import_csv(
    *,
    file: IO,
    by: User,
    source: str,
    note: str = "",
    progress: Callable[[Iterable], Iterable] | None = None,
) -> ForecastVersion:
    """Parse and store a CSV file, all or nothing (`forecast_upload` after
    `forecast_rows_parse`). `progress` wraps the row iterator (tqdm)."""
    rows: Iterable = parsing.forecast_csv_rows(file)
    if progress is not None:
        rows = progress(rows)
    return forecast_upload(rows=forecast_rows_parse(rows=rows), by=by, source=source, note=note)
