"""Pure parsing of financing input: money, rates and prices as typed, and the rows of a price
CSV. No database: the material codes a row names are resolved by the caller
(`services.price_points_import`) and handed in as a map.

Guarantees: a number goes through `vault.core.numbers.parse_decimal` (one rule for forms,
bodies and CSV rows) and then the financing's own bound, each refusal an InvalidInput naming
the field; `price_rows_parse` returns every row or raises, never a part."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Mapping
from datetime import date
from decimal import Decimal

from vault.core.errors import InvalidInput
from vault.core.numbers import MONEY, PRICE, RATE, parse_decimal

PRICE_COLUMNS = ("material", "date", "usd_per_kg", "source")
MAX_ROW_ERRORS_SHOWN = 10

PriceKey = tuple[int, date, str]  # (material id, day, source)


def parse_money(value: object, *, field: str = "amount") -> Decimal:
    """A positive USD amount with at most 2 decimals (cents), within numeric(20, 2); zero or
    less is `amount_not_positive`."""
    amount = parse_decimal(value, field=field, digits=MONEY, what="Amounts")
    if amount <= 0:
        raise InvalidInput("Amount must be greater than zero.", field=field, code="amount_not_positive")
    return amount


def parse_rate(value: object, *, field: str = "interest_rate_pct") -> Decimal:
    """An annual rate in percent, from 0 to under 100 (`rate_out_of_range`)."""
    rate = parse_decimal(value, field=field, digits=RATE, what="Rates")
    if rate < 0 or rate >= 100:
        raise InvalidInput(
            "The annual rate is a percentage from 0 to under 100.", field=field, code="rate_out_of_range"
        )
    return rate


def parse_price(value: object, *, field: str = "usd_per_kg") -> Decimal:
    """A price in USD per kg, not negative (`price_negative`)."""
    price = parse_decimal(value, field=field, digits=PRICE, what="Prices")
    if price < 0:
        raise InvalidInput("A price is not negative.", field=field, code="price_negative")
    return price


def price_rows_parse(text: str, *, materials: Mapping[str, int], default_source: str = "") -> dict[PriceKey, Decimal]:
    """The prices of a CSV with a header `material,date,usd_per_kg,source` (source may be
    omitted when `default_source` is given), by (material id, day, source); a later row for the
    same key wins. All or nothing, field `file`: `csv_unreadable`, `csv_header_invalid`,
    `price_rows_invalid` (the bad rows by line number, the first ten in full) or `no_rows`."""
    try:
        parsed, errors = _price_rows(_price_reader(text, default_source=default_source), materials, default_source)
    except csv.Error as exc:
        raise InvalidInput(
            f"Nothing imported: the file is not a readable CSV ({exc}).", field="file", code="csv_unreadable"
        )
    if errors:
        more = len(errors) - MAX_ROW_ERRORS_SHOWN
        shown = "; ".join(errors[:MAX_ROW_ERRORS_SHOWN]) + (f"; and {more} more" if more > 0 else "")
        raise InvalidInput(f"Nothing imported. {shown}.", field="file", code="price_rows_invalid")
    if not parsed:
        raise InvalidInput("The CSV has no price rows.", field="file", code="no_rows")
    return parsed


def _price_reader(text: str, *, default_source: str) -> csv.DictReader[str]:
    """A reader over the rows, its header lower-cased and checked for the required columns."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [(name or "").strip().lower() for name in (reader.fieldnames or [])]
    reader.fieldnames = header
    required = [c for c in PRICE_COLUMNS if c != "source" or not default_source]
    missing = [c for c in required if c not in header]
    if missing:
        raise InvalidInput(
            f"The CSV needs the columns {', '.join(PRICE_COLUMNS)}; missing {', '.join(missing)}.",
            field="file",
            code="csv_header_invalid",
        )
    return reader


def _price_rows(
    rows: Iterator[dict[str, str]], materials: Mapping[str, int], default_source: str
) -> tuple[dict[PriceKey, Decimal], list[str]]:
    """The rows parsed, and a message for each bad row (`line N: why`)."""
    parsed: dict[PriceKey, Decimal] = {}
    errors: list[str] = []
    for line_no, row in enumerate(rows, start=2):
        try:
            key, price = _price_row(row, materials, default_source)
        except InvalidInput as exc:
            errors.append(f"line {line_no}: {exc.message}")
            continue
        parsed[key] = price
    return parsed, errors


def _price_row(
    row: Mapping[str, str | None], materials: Mapping[str, int], default_source: str
) -> tuple[PriceKey, Decimal]:
    code = (row.get("material") or "").strip()
    source = (row.get("source") or "").strip() or default_source
    if code not in materials:
        raise InvalidInput(f"unknown material {code!r}", code="material_unknown")
    try:
        day = date.fromisoformat((row.get("date") or "").strip())
    except ValueError:
        raise InvalidInput(f"date {row.get('date')!r} is not YYYY-MM-DD", code="date_malformed")
    price = parse_price((row.get("usd_per_kg") or "").strip())
    if not source:
        raise InvalidInput("no source", code="source_required")
    return (materials[code], day, source[:100]), price
