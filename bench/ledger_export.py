"""Ledger CSV export benchmark: 1,000,000 journal lines, Vault's streaming endpoint side by side
with PostgreSQL's own COPY of the same SELECT, in one run.

    createdb -h 127.0.0.1 -U postgres vault_bench_h2   # once (the script also creates it)
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/vault_bench_h2 .venv/bin/python bench/ledger_export.py

Builds the ledger once (COPY with psycopg 3: 500,000 balanced two-line entries over ~1,000 days,
with the balance and immutability triggers enabled, so the load itself proves every entry
balances); `--rebuild` wipes and loads again. Then, for the first ~100,000 lines (a date_to
filter) and for all 1,000,000:

- PostgreSQL: `COPY (<the export SELECT>) TO STDOUT WITH (FORMAT csv, HEADER)` read to the end
  through psycopg 3 (the same statement the endpoint runs), rows/s;
- Vault: `GET /api/v1/ledger/export.csv` through Django's test Client as a finance user,
  consuming `streaming_content` to the end (authentication, permission, filter parsing,
  StreamingHttpResponse and its chunking included), rows/s; both outputs are checked equal in
  size;
and the same for one account (Cash, 400,000 lines) with its running balance (a window function);
- the ratio Vault / PostgreSQL (target >= 0.5), and the export's memory: tracemalloc's peak of
  Python allocations while streaming (measured in a separate pass, as tracing slows Python) and
  the process's peak RSS (ru_maxrss). Flat means the 1M-line figure is no larger than the 100k
  one.

Prints figures; never asserts a timing. `--repeat N` takes the best of N runs of each.
"""

from __future__ import annotations

import argparse
import gc
import os
import resource
import sys
import time
import tracemalloc
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
os.environ.setdefault("DJANGO_DEBUG", "false")

import warnings  # noqa: E402

import django  # noqa: E402

warnings.filterwarnings("ignore", message="No directory at", module="django.core.handlers.base")
django.setup()

import psycopg  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402

from vault.accounts.models import User  # noqa: E402
from vault.ledger.exports import LineExport  # noqa: E402
from vault.ledger.models import Account, JournalLine  # noqa: E402
from vault.ledger.services import chart_ensure  # noqa: E402

LINES = 1_000_000
ENTRIES = LINES // 2
DAYS = 1_000
START = date(2024, 1, 1)
BATCH = 50_000
MEMO = "Bench entry {n}: NdPr oxide lot purchase, depot DLA-HAMMOND"
# (debit account, credit account, source type): a few realistic pairs.
PATTERNS = [
    ("1300", "1000", "movement"),
    ("1000", "4000", "fee"),
    ("5000", "1000", "manual"),
    ("1000", "4100", "carrying_cost"),
    ("5200", "1300", "movement"),
]


def ensure_database() -> None:
    """Create the database named in DATABASE_URL when it does not exist yet."""
    db = settings.DATABASES["default"]
    if db["ENGINE"] != "django.db.backends.postgresql":
        sys.exit("The benchmark compares with PostgreSQL's COPY: set DATABASE_URL=postgres://...")
    params = {"host": db["HOST"], "port": db["PORT"] or 5432, "user": db["USER"], "dbname": "postgres"}
    if db.get("PASSWORD"):
        params["password"] = db["PASSWORD"]
    with psycopg.connect(**params, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [db["NAME"]]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{db["NAME"]}"')
            print(f"created database {db['NAME']}")


def build(rebuild: bool) -> None:
    call_command("migrate", verbosity=0)
    chart_ensure()
    have = JournalLine.objects.count()
    if have >= LINES and not rebuild:
        print(f"ledger already holds {have:,} lines (use --rebuild to load again)")
        return
    accounts = {a.code: a.pk for a in Account.objects.all()}
    started = time.perf_counter()
    with connection.cursor() as cursor:
        # The journal is append-only (triggers): TRUNCATE is the one way to start over.
        cursor.execute("TRUNCATE ledger_journalline, ledger_journalentry RESTART IDENTITY CASCADE")
    with connection.cursor() as cursor:
        pg = cursor.cursor
        for first in range(0, ENTRIES, BATCH):
            count = min(BATCH, ENTRIES - first)
            entries, lines = [], []
            for n in range(first + 1, first + count + 1):
                debit, credit, source = PATTERNS[n % len(PATTERNS)]
                day = START + timedelta(days=(n * DAYS) // ENTRIES)
                amount = f"{(n * 7919) % 9_999_999 + 1}.{n % 100:02d}"
                entries.append(f"{n}\t{day.isoformat()}\t{MEMO.format(n=n)}\t{source}\t{n}\t2026-01-01 00:00:00+00\n")
                lines.append(f"{n}\t{accounts[debit]}\t{amount}\t0\n{n}\t{accounts[credit]}\t0\t{amount}\n")
            # Entries and their lines in one transaction: the balance triggers check them at COMMIT.
            with transaction.atomic():
                with pg.copy(
                    "COPY ledger_journalentry (id, date, memo, source_type, source_id, posted_at) FROM STDIN"
                ) as copy:
                    copy.write("".join(entries))
                with pg.copy("COPY ledger_journalline (entry_id, account_id, debit, credit) FROM STDIN") as copy:
                    copy.write("".join(lines))
            print(f"  loaded {first + count:,} entries / {2 * (first + count):,} lines", end="\r", flush=True)
        cursor.execute("SELECT setval(pg_get_serial_sequence('ledger_journalentry', 'id'), %s)", [ENTRIES])
        cursor.execute("ANALYZE ledger_journalentry")
        cursor.execute("ANALYZE ledger_journalline")
    print(f"\nbuilt {LINES:,} journal lines in {time.perf_counter() - started:.1f} s (triggers on)")


def pg_copy(selection: LineExport) -> tuple[int, int, float]:
    """PostgreSQL's own COPY of the export's SELECT, read to the end: (bytes, rows, seconds)."""
    sql, params = selection.select_sql(opening=selection.opening_balance())
    size = rows = 0
    started = time.perf_counter()
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY ({sql}) TO STDOUT WITH (FORMAT csv, HEADER true)", params) as copy,
    ):
        for data in copy:
            size += len(data)
            rows += 1
    return size, rows - 1, time.perf_counter() - started


def vault_export(client: Client, query: str) -> tuple[int, int, float]:
    """The endpoint through Django's test Client, consumed to the end: (bytes, rows, seconds)."""
    size = rows = 0
    started = time.perf_counter()
    response = client.get(f"/api/v1/ledger/export.csv{query}")
    assert response.status_code == 200, response.status_code
    for chunk in response.streaming_content:
        size += len(chunk)
        rows += chunk.count(b"\n")
    response.close()
    return size, rows - 1, time.perf_counter() - started


def vault_memory(client: Client, query: str) -> int:
    """tracemalloc's peak of Python allocations while the endpoint streams (bytes)."""
    gc.collect()
    tracemalloc.start()
    tracemalloc.reset_peak()
    response = client.get(f"/api/v1/ledger/export.csv{query}")
    for _chunk in response.streaming_content:
        pass
    response.close()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak


def max_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rebuild", action="store_true", help="wipe the journal and load 1M lines again")
    parser.add_argument("--repeat", type=int, default=3, help="best of N runs (default 3)")
    args = parser.parse_args()

    ensure_database()
    build(args.rebuild)
    user, _ = User.objects.get_or_create(username="bench-finance", defaults={"role": "finance", "is_staff": True})
    client = Client()
    client.force_login(user)

    # ~100k lines: the first tenth of the days.
    small_to = START + timedelta(days=DAYS // 10 - 1)
    cases = [
        (f"~100k lines (date_to={small_to})", f"?date_to={small_to}", LineExport(date_to=small_to)),
        ("1M lines (no filter)", "", LineExport()),
        ("account 1000, running balance", "?account=1000", LineExport(account=Account.objects.get(code="1000"))),
    ]
    print(
        f"\nPostgreSQL {connection.pg_version // 10000}, psycopg {psycopg.__version__}, Django {django.get_version()}"
    )
    print(
        f"{'selection':34} {'rows':>9} {'PG COPY rows/s':>15} {'Vault rows/s':>13} {'ratio':>6}"
        f" {'py peak MiB':>12} {'max RSS MiB':>12}"
    )
    for label, query, selection in cases:
        best_pg = best_vault = None
        for attempt in range(args.repeat):
            # Alternate which goes first, so neither always finds the other's warm cache.
            if attempt % 2:
                vault_bytes, vault_rows, vault_seconds = vault_export(client, query)
                pg_bytes, pg_rows, pg_seconds = pg_copy(selection)
            else:
                pg_bytes, pg_rows, pg_seconds = pg_copy(selection)
                vault_bytes, vault_rows, vault_seconds = vault_export(client, query)
            assert (pg_bytes, pg_rows) == (vault_bytes, vault_rows), "the endpoint must stream COPY's very bytes"
            best_pg = min(best_pg or pg_seconds, pg_seconds)
            best_vault = min(best_vault or vault_seconds, vault_seconds)
        peak = vault_memory(client, query)
        pg_rate, vault_rate = pg_rows / best_pg, vault_rows / best_vault
        print(
            f"{label:34} {pg_rows:>9,} {pg_rate:>15,.0f} {vault_rate:>13,.0f} {vault_rate / pg_rate:>6.2f}"
            f" {peak / 2**20:>12.2f} {max_rss_mb():>12.1f}"
        )
    print(
        "\nratio = Vault rows/s / PostgreSQL COPY rows/s (target >= 0.5); py peak = tracemalloc peak while streaming."
    )


if __name__ == "__main__":
    main()
