"""Facility statement downloads (CSV, XLSX). The journal downloads live in vault.ledger.exports."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import astuple
from typing import IO

from vault.financing.selectors import STATEMENT_COLUMNS, Statement
from vault.ledger.exports import Sheet, csv_chunks, xlsx_file
from vault.ledger.models import DownloadRecord


def statement_filename(statement: Statement, extension: str) -> str:
    return (
        f"statement_{statement.facility.code}_{statement.period}_"
        f"{statement.date_from.isoformat()}_{statement.date_to.isoformat()}.{extension}"
    )


def statement_download(statement: Statement, *, request) -> dict:
    """What `csv_response`/`xlsx_response` record for a statement: the selection it was built
    with (defaults resolved), and its number of rows."""
    return {
        "request": request,
        "what": DownloadRecord.What.FACILITY_STATEMENT,
        "query": {
            "facility": statement.facility.code,
            "period": statement.period,
            "date_from": statement.date_from.isoformat(),
            "date_to": statement.date_to.isoformat(),
        },
        "row_count": len(statement.rows),
    }


def statement_csv(statement: Statement) -> Iterator[bytes]:
    return csv_chunks((astuple(row) for row in statement.rows), header=STATEMENT_COLUMNS)


def statement_xlsx(statement: Statement) -> IO[bytes]:
    return xlsx_file(
        [
            Sheet(
                title=f"{statement.facility.code}"[:31],
                header=STATEMENT_COLUMNS,
                rows=(astuple(row) for row in statement.rows),
                money_columns=frozenset(range(3, len(STATEMENT_COLUMNS))),
                date_columns=frozenset({1, 2}),
                widths={chr(ord("A") + i): 18 for i in range(len(STATEMENT_COLUMNS))},
            )
        ]
    )
