"""Helpers shared by the benchmarks: choose and create the bench database, time requests.

Import this module before Django is set up: `bench_database_url()` decides which database the
benchmark writes to, and the caller puts it in DATABASE_URL before `django.setup()`."""

from __future__ import annotations

import os
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

DEFAULT_BENCH_DB = "vault_bench"


def bench_database_url(explicit: str | None = None) -> str:
    """The PostgreSQL database a benchmark uses: `explicit` (--database-url), else
    BENCH_DATABASE_URL, else the server of DATABASE_URL with the database `vault_bench`, so that a
    benchmark never fills the development database. Exits when none points at PostgreSQL."""
    url = explicit or os.environ.get("BENCH_DATABASE_URL")
    if not url:
        base = os.environ.get("DATABASE_URL", "")
        if base.startswith(("postgres://", "postgresql://")):
            parts = urlsplit(base)
            url = urlunsplit(parts._replace(path=f"/{DEFAULT_BENCH_DB}"))
    if not url or not url.startswith(("postgres://", "postgresql://")):
        sys.exit(
            "The benchmarks need PostgreSQL: set DATABASE_URL=postgres://USER@HOST:5432/DB "
            f"(the bench then uses the database {DEFAULT_BENCH_DB} on that server) or pass --database-url."
        )
    return url


def ensure_database(url: str) -> bool:
    """Create the database of `url` if it does not exist; return True when it was created."""
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            return False
        conn.execute(f'CREATE DATABASE "{name}"')
    return True


@dataclass
class Timing:
    label: str
    median_ms: float
    p95_ms: float
    cpu_ms: float  # median CPU time of this process per request: the part that is not waiting
    queries: int
    status: int

    def line(self, target_ms: float) -> str:
        flag = "ok" if self.median_ms < target_ms else "SLOW"
        return (
            f"{self.label:<58} median {self.median_ms:6.1f} ms  p95 {self.p95_ms:6.1f} ms  "
            f"(cpu {self.cpu_ms:5.1f} ms)  {self.queries:2d} queries  [{flag}]"
        )


def measure(label: str, request: Callable[[], object], *, repeat: int = 30, warmup: int = 3) -> Timing:
    """Time `request()` (a test-client call) `repeat` times after `warmup` calls; count the SQL
    queries of one call."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(warmup):
        response = request()
    with CaptureQueriesContext(connection) as ctx:
        response = request()
    queries = len(ctx.captured_queries)  # now: the next request clears the log (reset_queries)
    status = response.status_code
    if status != 200:
        raise SystemExit(f"{label}: HTTP {status}")
    samples, cpu = [], []
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        request()
        samples.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
    samples.sort()
    p95 = samples[min(len(samples) - 1, round(0.95 * (len(samples) - 1)))]
    return Timing(label, statistics.median(samples), p95, statistics.median(cpu), queries, status)
