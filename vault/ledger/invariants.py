"""The ledger's part of the integrity checks: journal entries, with their lines, are a stream of
the hash chain (vault.integrity.chain)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from datetime import datetime

from django.db.models import Max

from vault.integrity.chain import BATCH, row_text, stream_register
from vault.ledger.models import JournalEntry, JournalLine

ENTRY_FIELDS = ("id", "date", "memo", "source_type", "source_id", "reverses_id", "posted_by_id", "posted_at")
LINE_FIELDS = ("entry_id", "id", "account_id", "debit", "credit")


def journal_rows(first_id: int, last_id: int) -> Iterator[tuple[int, str]]:
    """Each entry's canonical text followed by its lines', in id order."""
    for start in range(first_id, last_id + 1, BATCH):
        end = min(start + BATCH - 1, last_id)
        lines: dict[int, list[str]] = defaultdict(list)
        in_range = JournalLine.objects.filter(entry_id__gte=start, entry_id__lte=end).order_by("entry_id", "id")
        for line in in_range.values_list(*LINE_FIELDS):
            lines[line[0]].append(row_text(line[1:]))
        for entry in JournalEntry.objects.filter(id__range=(start, end)).order_by("id").values_list(*ENTRY_FIELDS):
            yield entry[0], row_text(entry) + "#" + ";".join(lines.get(entry[0], []))


def journal_last_id_before(moment: datetime) -> int | None:
    return JournalEntry.objects.filter(posted_at__lt=moment).aggregate(last=Max("id"))["last"]


stream_register("journal", rows=journal_rows, last_id_before=journal_last_id_before)
