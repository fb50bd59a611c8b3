"""The record of who downloaded the ledger or a statement."""

from __future__ import annotations

from vault.accounts.models import User
from vault.core.errors import InvalidInput
from vault.ledger.models import DownloadRecord


def download_record(
    *, by: User, what: str, query: dict, format: str, via: str, row_count: int | None = None
) -> DownloadRecord:
    """Record one download of the ledger or of a statement: who (`by`), what, with which filter
    (`query`, JSON), in which format, through the API or the admin, and how many rows when known.
    Records are never changed nor deleted (database triggers)."""
    if what not in DownloadRecord.What.values:
        raise InvalidInput(f"Unknown download {what!r}.", field="what", code="download_unknown")
    if format not in DownloadRecord.Format.values:
        raise InvalidInput(f"Unknown download format {format!r}.", field="format", code="download_format_unknown")
    return DownloadRecord.objects.create(user=by, what=what, query=query, format=format, via=via, row_count=row_count)
