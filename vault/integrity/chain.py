"""The hash chain over the append-only streams the apps register (the ledger: journal entries
with their lines; inventory: stock movements). `seal_streams` appends a Seal per stream for
the rows posted before the horizon that no seal covers yet; `seal_breaks` recomputes every
seal from the rows and names the links that no longer match. A row is canonical text: its
columns in a fixed order, datetimes in UTC, decimals at their field's places; an entry's text
includes its lines.

The horizon (rows posted at least `SEAL_HORIZON` ago) leaves the transactions in flight out of
a seal, so a row committed after its range was sealed can only be one that took longer than
the horizon to commit, or one written behind the application's back: both are named."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import autodiscover_modules

from vault.integrity.models import Seal

SEAL_HORIZON = timedelta(minutes=10)
BATCH = 2000  # rows read at a time

RowsInRange = Callable[[int, int], Iterator[tuple[int, str]]]  # (id, canonical text) for ids first..last
LastIdBefore = Callable[[datetime], int | None]  # the last id posted before a moment


@dataclass(frozen=True)
class Stream:
    name: str
    rows: RowsInRange
    last_id_before: LastIdBefore


STREAMS: dict[str, Stream] = {}


def stream_register(name: str, *, rows: RowsInRange, last_id_before: LastIdBefore) -> None:
    """Add an append-only stream to the chain (an app's `invariants` module does, for its table)."""
    STREAMS[name] = Stream(name, rows, last_id_before)


def row_text(values: Iterable[object]) -> str:
    """A row's canonical text: its values in order, `~` for NULL, datetimes in UTC."""

    def one(value: object) -> str:
        if value is None:
            return "~"
        if isinstance(value, datetime):
            return value.astimezone(UTC).isoformat(timespec="microseconds")
        return str(value).replace("\\", "\\\\").replace("|", "\\|")

    return "|".join(one(value) for value in values)


def _streams() -> list[Stream]:
    autodiscover_modules("invariants")  # the apps register their streams there
    return list(STREAMS.values())


def link_digest(previous: str, rows: Iterable[tuple[int, str]]) -> tuple[str, int]:
    """The digest of a link (the previous digest, then each row's text) and its row count."""
    digest = hashlib.sha256(previous.encode())
    count = 0
    for _, text in rows:
        digest.update(b"\n" + text.encode())
        count += 1
    return digest.hexdigest(), count


@transaction.atomic
def seal_streams(*, horizon: timedelta = SEAL_HORIZON) -> list[Seal]:
    """Append one seal per stream over the rows posted more than `horizon` ago that no seal
    covers yet; nothing when there are none. Two runs at once: the second waits for the first's
    last link (row lock) and then finds nothing new, or a unique constraint refuses its link."""
    before = timezone.now() - horizon
    sealed = []
    for stream in _streams():
        last = Seal.objects.select_for_update().filter(stream=stream.name).order_by("-last_id").first()
        first_id = last.last_id + 1 if last else 1
        last_id = stream.last_id_before(before)
        if last_id is None or last_id < first_id:
            continue
        digest, count = link_digest(last.digest if last else "", stream.rows(first_id, last_id))
        sealed.append(
            Seal.objects.create(
                stream=stream.name,
                first_id=first_id,
                last_id=last_id,
                rows=count,
                previous_digest=last.digest if last else "",
                digest=digest,
            )
        )
    return sealed


def seal_breaks() -> list[tuple]:
    """Every link that its rows no longer explain: (stream, first id, last id, what is wrong);
    the links are recomputed from the rows in stream order, each from its predecessor's digest."""
    breaks = []
    for stream in _streams():
        previous = ""
        for seal in Seal.objects.filter(stream=stream.name).order_by("first_id"):
            if seal.previous_digest != previous:
                breaks.append((stream.name, seal.first_id, seal.last_id, "does not follow the link before it"))
            digest, count = link_digest(seal.previous_digest, stream.rows(seal.first_id, seal.last_id))
            if (digest, count) != (seal.digest, seal.rows):
                breaks.append(
                    (
                        stream.name,
                        seal.first_id,
                        seal.last_id,
                        f"no longer matches its rows ({count} rows now, {seal.rows} sealed): a row was edited, "
                        "deleted or inserted behind the application",
                    )
                )
            previous = seal.digest
    return breaks
