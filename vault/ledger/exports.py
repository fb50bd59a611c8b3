"""Journal line downloads: CSV that streams with flat memory, and XLSX in openpyxl's write-only mode.

On PostgreSQL the CSV is PostgreSQL's own `COPY (SELECT ...) TO STDOUT` read through psycopg 3
and handed to the response in ~64 KB chunks: no row is ever a Python object, so the export runs
close to COPY's own speed and its memory does not grow with the ledger. Elsewhere (SQLite) rows
come from a chunked ORM iterator through `csv.writer`. Both give the same bytes for the same rows.

Columns: date, entry number, account code and name, debit, credit, running balance (only when
one account is selected: its balance on its normal side, starting from its balance before
`date_from`), memo and source reference. Memos starting with = + - @, a tab or a carriage return
(FORMULA_PREFIXES, OWASP's list) are prefixed with a quote so that a spreadsheet never evaluates
them as formulas; the COPY's SQL takes its list from the same constant.
"""

from __future__ import annotations

import csv
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import IO

from django.db import connection
from django.db.models import Exists, OuterRef, QuerySet, Sum
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

from vault.ledger.models import Account, JournalEntry, JournalLine

COLUMNS = [
    "date",
    "entry_number",
    "account_code",
    "account_name",
    "debit",
    "credit",
    "running_balance",
    "memo",
    "source_reference",
]
CHUNK_BYTES = 64 * 1024
XLSX_MAX_ROWS = 1_048_576  # Excel's limit per sheet, header included
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
ZERO = Decimal("0.00")


def entry_number(entry_id: int) -> str:
    return f"JE-{entry_id:08d}"


def safe_text(text: str) -> str:
    """Neutralise spreadsheet formulas (CSV injection) by a leading quote."""
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


@dataclass(frozen=True)
class LineExport:
    """Which journal lines to export. `subledger` keeps the entries that touch any account of
    a sub-ledger (a facility); `entries` further restricts to a queryset of entries (the admin's
    filtered changelist); `account` keeps only the lines of that account and adds the running
    balance."""

    account: Account | None = None
    subledger: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    entries: QuerySet[JournalEntry] | None = None

    # --- SQL (PostgreSQL COPY) ---------------------------------------------------------------

    def _where(self) -> tuple[str, list]:
        clauses: list[str] = []
        params: list = []
        if self.account is not None:
            clauses.append("l.account_id = %s")
            params.append(self.account.pk)
        if self.subledger:
            clauses.append(
                "EXISTS (SELECT 1 FROM ledger_journalline l2 JOIN ledger_account a2 ON a2.id = l2.account_id"
                " WHERE l2.entry_id = l.entry_id AND a2.subledger = %s)"
            )
            params.append(self.subledger)
        if self.entries is not None:
            sql, entry_params = self.entries.order_by().values("pk").query.sql_with_params()
            clauses.append(f"l.entry_id IN ({sql})")
            params.extend(entry_params)
        if self.date_from:
            clauses.append("e.date >= %s")
            params.append(self.date_from)
        if self.date_to:
            clauses.append("e.date <= %s")
            params.append(self.date_to)
        return (" WHERE " + " AND ".join(clauses)) if clauses else "", params

    def _signed(self, prefix: str = "l.") -> str:
        assert self.account is not None
        if self.account.debit_normal:
            return f"{prefix}debit - {prefix}credit"
        return f"{prefix}credit - {prefix}debit"

    def opening_balance(self) -> Decimal:
        """The selected account's balance (normal side) at the end of the day before
        `date_from` (within the facility when one is selected), so the running balance is the
        account's real balance; zero without an account or a start date."""
        if self.account is None or self.date_from is None:
            return ZERO
        lines = self._orm_lines(before=self.date_from)
        totals = lines.aggregate(d=Sum("debit"), c=Sum("credit"))
        debit, credit = totals["d"] or ZERO, totals["c"] or ZERO
        return debit - credit if self.account.debit_normal else credit - debit

    def select_sql(self, *, opening: Decimal = ZERO) -> tuple[str, list]:
        """The SELECT that produces the export's rows in order, with its parameters."""
        params: list = []
        if self.account is not None:
            running = (
                f"(%s::numeric(20,2) + SUM({self._signed()}) OVER "
                "(ORDER BY e.date, e.id, l.id ROWS UNBOUNDED PRECEDING))"
            )
            params.append(opening)
        else:
            running = "NULL::numeric"
        params.append(list(FORMULA_PREFIXES))  # the memo's CASE, after the running balance
        where, where_params = self._where()
        sql = (
            "SELECT e.date AS date,"
            " 'JE-' || CASE WHEN e.id < 100000000 THEN lpad(e.id::text, 8, '0') ELSE e.id::text END"
            " AS entry_number,"
            " a.code AS account_code, a.name AS account_name,"
            " NULLIF(l.debit, 0) AS debit, NULLIF(l.credit, 0) AS credit,"
            f" {running} AS running_balance,"
            " CASE WHEN left(e.memo, 1) = ANY(%s::text[]) THEN '''' || e.memo ELSE e.memo END AS memo,"
            " e.source_type || COALESCE(':' || e.source_id::text, '') AS source_reference"
            " FROM ledger_journalline l"
            " JOIN ledger_journalentry e ON e.id = l.entry_id"
            " JOIN ledger_account a ON a.id = l.account_id"
            f"{where}"
            " ORDER BY e.date, e.id, l.id"
        )
        return sql, params + where_params

    # --- ORM (SQLite, XLSX) ------------------------------------------------------------------

    def _orm_lines(self, *, before: date | None = None) -> QuerySet[JournalLine]:
        lines = JournalLine.objects.all()
        if self.account is not None:
            lines = lines.filter(account=self.account)
        if self.subledger:
            lines = lines.filter(
                Exists(JournalLine.objects.filter(entry_id=OuterRef("entry_id"), account__subledger=self.subledger))
            )
        if self.entries is not None and before is None:
            # The opening balance carries the account's whole history forward: the entry
            # selection (which already holds the date range) applies to the rows only.
            lines = lines.filter(entry_id__in=self.entries.order_by().values("pk"))
        if before is not None:
            lines = lines.filter(entry__date__lt=before)
        else:
            if self.date_from:
                lines = lines.filter(entry__date__gte=self.date_from)
            if self.date_to:
                lines = lines.filter(entry__date__lte=self.date_to)
        return lines

    def rows(self, *, opening: Decimal | None = None, chunk_size: int = 5000) -> Iterator[tuple]:
        """Typed rows (date, str, str, str, Decimal|None, Decimal|None, Decimal|None, str, str)
        from a chunked iterator (a server-side cursor on PostgreSQL)."""
        running = self.opening_balance() if opening is None else opening
        debit_normal = self.account.debit_normal if self.account is not None else True
        lines = (
            self._orm_lines()
            .order_by("entry__date", "entry_id", "id")
            .values_list(
                "entry__date",
                "entry_id",
                "account__code",
                "account__name",
                "debit",
                "credit",
                "entry__memo",
                "entry__source_type",
                "entry__source_id",
            )
        )
        for day, entry_id, code, name, debit, credit, memo, source_type, source_id in lines.iterator(
            chunk_size=chunk_size
        ):
            balance = None
            if self.account is not None:
                running += (debit - credit) if debit_normal else (credit - debit)
                balance = running
            yield (
                day,
                entry_number(entry_id),
                code,
                name,
                debit or None,
                credit or None,
                balance,
                safe_text(memo),
                f"{source_type}:{source_id}" if source_id is not None else source_type,
            )


class _Echo:
    """A file-like object whose write() returns what it was given (for csv.writer)."""

    def write(self, value: str) -> str:
        return value


def _pg_copy_chunks(sql: str, params: list, *, header: bool = True) -> Iterator[bytes]:
    options = "FORMAT csv, HEADER true" if header else "FORMAT csv"
    with connection.cursor() as cursor:
        raw = cursor.cursor  # the psycopg 3 cursor under Django's wrapper
        with raw.copy(f"COPY ({sql}) TO STDOUT WITH ({options})", params) as copy:
            buffer = bytearray()
            for data in copy:
                buffer += data
                if len(buffer) >= CHUNK_BYTES:
                    yield bytes(buffer)
                    buffer.clear()
            if buffer:
                yield bytes(buffer)


def csv_chunks(rows: Iterable[tuple], *, header: list[str] | None) -> Iterator[bytes]:
    """Rows as CSV byte chunks, the same bytes as PostgreSQL's COPY ... (FORMAT csv): lines end
    in LF, and a field holding a CR or an LF is quoted (csv.writer quotes only the characters of
    its line terminator, hence CRLF, cut back to LF at each line's end)."""
    writer = csv.writer(_Echo(), lineterminator="\r\n")

    def line(values) -> str:
        return writer.writerow(values)[:-2] + "\n"

    parts: list[str] = []
    size = 0
    if header:
        parts.append(line(header))
    for row in rows:
        text = line(row)
        parts.append(text)
        size += len(text)
        if size >= CHUNK_BYTES:
            yield "".join(parts).encode()
            parts.clear()
            size = 0
    if parts:
        yield "".join(parts).encode()


def lines_csv(selection: LineExport) -> Iterator[bytes]:
    """The CSV of the selected journal lines, header first, as an iterator of byte chunks.
    The opening balance is read now; the rows are read while the iterator is consumed."""
    opening = selection.opening_balance()
    if connection.vendor == "postgresql":
        sql, params = selection.select_sql(opening=opening)
        return _pg_copy_chunks(sql, params)
    return csv_chunks(selection.rows(opening=opening), header=COLUMNS)


# --- XLSX --------------------------------------------------------------------------------------

MONEY_FORMAT = "#,##0.00"
DATE_FORMAT = "yyyy-mm-dd"


@dataclass
class Sheet:
    title: str
    header: list[str]
    rows: Iterable[tuple]
    money_columns: frozenset[int] = frozenset()
    date_columns: frozenset[int] = frozenset()
    widths: dict[str, float] | None = None


def xlsx_file(sheets: Iterable[Sheet]) -> IO[bytes]:
    """Write sheets with openpyxl's write-only workbook (rows go to disk as they come) into an
    anonymous temporary file, rewound and ready to stream. A sheet longer than Excel's limit
    continues on "<title> (2)", "<title> (3)"..."""
    workbook = Workbook(write_only=True)
    for sheet in sheets:
        part = 1
        worksheet = _new_sheet(workbook, sheet, part)
        written = 1
        for row in sheet.rows:
            if written >= XLSX_MAX_ROWS:
                part += 1
                worksheet = _new_sheet(workbook, sheet, part)
                written = 1
            worksheet.append(_cells(worksheet, row, sheet))
            written += 1
    output = tempfile.TemporaryFile()  # noqa: SIM115 - handed to the response, which closes it
    workbook.save(output)
    output.seek(0)
    return output


def _new_sheet(workbook, sheet: Sheet, part: int):
    worksheet = workbook.create_sheet(title=sheet.title if part == 1 else f"{sheet.title} ({part})"[:31])
    for column, width in (sheet.widths or {}).items():
        worksheet.column_dimensions[column].width = width
    worksheet.freeze_panes = "A2"
    worksheet.append(sheet.header)
    return worksheet


def _cells(worksheet, row: tuple, sheet: Sheet) -> list:
    cells = []
    for index, value in enumerate(row):
        if value is not None and index in sheet.money_columns:
            cell = WriteOnlyCell(worksheet, value=value)
            cell.number_format = MONEY_FORMAT
            cells.append(cell)
        elif value is not None and index in sheet.date_columns:
            cell = WriteOnlyCell(worksheet, value=value)
            cell.number_format = DATE_FORMAT
            cells.append(cell)
        else:
            cells.append(value)
    return cells


def lines_xlsx(selection: LineExport) -> IO[bytes]:
    """The XLSX of the selected journal lines (same columns as the CSV)."""
    return xlsx_file(
        [
            Sheet(
                title="Journal",
                header=COLUMNS,
                rows=selection.rows(),
                money_columns=frozenset({4, 5, 6}),
                date_columns=frozenset({0}),
                widths={"A": 12, "B": 14, "C": 16, "D": 36, "E": 16, "F": 16, "G": 18, "H": 60, "I": 18},
            )
        ]
    )
