"""Pure parsing of forecast input: months, quantities, CSV rows and their validation. No
database: the codes a row names are resolved by the caller (`services.forecast_rows_parse`)
and handed in as maps.

Guarantees: `forecast_rows_validate` reports every bad row (the first `MAX_ROW_ERRORS_SHOWN`
in full, all of them in the count) or returns every row parsed, never a part."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import IO

from vault.core.errors import InvalidInput
from vault.core.numbers import parse_quantity
from vault.coverage.errors import ForecastRowsInvalid

FORECAST_COLUMNS = ("material", "month", "quantity", "organization")
REQUIRED_COLUMNS = FORECAST_COLUMNS[:3]
MAX_ROW_ERRORS_SHOWN = 100
REQUIRED = "This field is required."
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")

RowErrors = dict[str, list[str]]


@dataclass(frozen=True)
class ForecastRow:
    """One validated forecast row: a material's (and optionally an organization's) kg for a month."""

    material_id: int
    organization_id: int | None
    month: date
    quantity: Decimal


def parse_month(raw: str) -> date:
    """`YYYY-MM` (year 1900 on) as the first day of that month; `month_malformed` otherwise."""
    match = _MONTH.match((raw or "").strip())
    if not match or not 1 <= int(match.group(2)) <= 12 or int(match.group(1)) < 1900:
        raise InvalidInput("Use YYYY-MM, e.g. 2026-07.", field="month", code="month_malformed")
    return date(int(match.group(1)), int(match.group(2)), 1)


def forecast_quantity(raw: object) -> Decimal:
    """A month's forecast in kg: zero is a forecast (no use that month), a negative one is not."""
    return parse_quantity(raw, allow_zero=True)


# --- CSV ------------------------------------------------------------------------------------------


def _not_utf8() -> InvalidInput:
    return InvalidInput("The file is not UTF-8 text.", field="file", code="file_not_utf8")


def _header_check(header: list[str]) -> None:
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    unknown = [c for c in header if c not in FORECAST_COLUMNS]
    if not (missing or unknown):
        return
    parts = [
        f"{what} column(s) {', '.join(names)}" for what, names in (("missing", missing), ("unknown", unknown)) if names
    ]
    raise InvalidInput(
        f"Bad header: {'; '.join(parts)}. Expected: material,month,quantity[,organization].",
        field="file",
        code="csv_header_invalid",
    )


def forecast_csv_rows(file: IO) -> Iterator[dict[str, str]]:
    """Rows of a CSV upload (text or bytes stream) as dicts; the header names the columns
    (case and spaces ignored). Raises `file_not_utf8`, `csv_header_invalid` or `csv_unreadable`
    as the rows are read."""
    text = file if isinstance(file, io.TextIOBase) else io.TextIOWrapper(file, encoding="utf-8-sig", newline="")
    try:
        reader = csv.DictReader(text)
        header = [(h or "").strip().lower() for h in (reader.fieldnames or [])]
    except UnicodeDecodeError:
        raise _not_utf8() from None
    _header_check(header)
    reader.fieldnames = header
    try:
        yield from reader
    except UnicodeDecodeError:
        raise _not_utf8() from None
    except csv.Error as exc:
        raise InvalidInput(
            f"Unreadable CSV at line {reader.line_num}: {exc}.", field="file", code="csv_unreadable"
        ) from None


def forecast_rows_bounded(rows: Iterable[Mapping[str, str]], *, max_rows: int) -> list[Mapping[str, str]]:
    """The rows as a list: `too_many_rows` past `max_rows` (without reading further), `no_rows`
    when there are none."""
    bounded: list[Mapping[str, str]] = []
    for n, row in enumerate(rows):
        if n >= max_rows:
            raise InvalidInput(f"At most {max_rows} rows per upload.", field="file", code="too_many_rows")
        bounded.append(row)
    if not bounded:
        raise InvalidInput("The upload has no rows.", field="file", code="no_rows")
    return bounded


# --- rows -----------------------------------------------------------------------------------------


def cell(row: Mapping[str, str], name: str) -> str:
    """A cell's text without surrounding spaces; "" when the column or the value is missing."""
    return (row.get(name) or "").strip()


def _parsed(row: Mapping[str, str], name: str, parse: Callable[[str], object], errors: RowErrors) -> object:
    raw = row.get(name) or ""
    try:
        return parse(raw)
    except InvalidInput as exc:
        errors[name] = [exc.message if raw.strip() else REQUIRED]
        return None


def _looked_up(code: str, ids: Mapping[str, int], *, name: str, errors: RowErrors) -> int | None:
    found = ids.get(code)
    if found is None:
        errors[name] = [f"Unknown {name} {code!r}."]
    return found


def forecast_row_parse(
    row: Mapping[str, str], *, materials: Mapping[str, int], organizations: Mapping[str, int]
) -> tuple[ForecastRow | None, RowErrors]:
    """One raw row as a `ForecastRow`, or None with its errors by column."""
    errors: RowErrors = {}
    code, org_code = cell(row, "material"), cell(row, "organization")
    if code:
        material_id = _looked_up(code, materials, name="material", errors=errors)
    else:
        material_id, errors["material"] = None, [REQUIRED]
    organization_id = _looked_up(org_code, organizations, name="organization", errors=errors) if org_code else None
    month = _parsed(row, "month", parse_month, errors)
    quantity = _parsed(row, "quantity", forecast_quantity, errors)
    if errors:
        return None, errors
    assert material_id is not None and isinstance(month, date) and isinstance(quantity, Decimal)
    return ForecastRow(material_id, organization_id, month, quantity), errors


def forecast_rows_validate(
    rows: Iterable[Mapping[str, str]],
    *,
    materials: Mapping[str, int],
    organizations: Mapping[str, int],
    first_row_number: int = 2,
) -> list[ForecastRow]:
    """Every row parsed, given the ids of the material and organization codes they may name.
    Raises `ForecastRowsInvalid` with every bad row (a second row for the same material,
    organization and month is one), numbered from `first_row_number`."""
    errors: dict[str, RowErrors] = {}
    error_count = 0
    parsed: list[ForecastRow] = []
    seen: dict[tuple[int, int | None, date], int] = {}
    for n, row in enumerate(rows, start=first_row_number):
        one, row_errors = forecast_row_parse(row, materials=materials, organizations=organizations)
        if one is not None:
            key = (one.material_id, one.organization_id, one.month)
            if key in seen:
                row_errors["month"] = [f"Duplicate of row {seen[key]} (same material, organization and month)."]
            else:
                seen[key] = n
                parsed.append(one)
        if row_errors:
            error_count += 1
            if len(errors) < MAX_ROW_ERRORS_SHOWN:
                errors[f"row {n}"] = row_errors
    if errors:
        raise ForecastRowsInvalid(errors, total_errors=error_count)
    return parsed
