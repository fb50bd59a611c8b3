"""gunicorn settings for production: `gunicorn -c config/gunicorn.conf.py config.wsgi`.

Every value can be overridden from the environment (or on the command line). Defaults suit the
2-core machines Vault runs on: two processes per core with four threads each (requests spend
much of their time waiting on PostgreSQL), keep-alive long enough for API clients to reuse
their connection, and workers recycled after a few thousand requests."""

import multiprocessing
import os
import shutil
from pathlib import Path

# /metrics adds up every worker's request metrics (prometheus_client's multiprocess mode): the
# workers of this server write their files in a folder of its own (several servers may share a
# VAR_DIR), made here, before anything imports prometheus_client, and removed on exit.
_METRICS_DIR = Path(
    os.environ.setdefault(
        "PROMETHEUS_MULTIPROC_DIR",
        str(
            Path(os.environ.get("VAULT_VAR_DIR", Path(__file__).resolve().parent.parent / "var"))
            / "prometheus"
            / f"gunicorn-{os.getpid()}"
        ),
    )
)
_METRICS_DIR.mkdir(parents=True, exist_ok=True)

from vault.core.logging import logging_config, parse_level  # noqa: E402 - after the metrics directory

# A Procfile runner gives each web process its own PORT.
bind = os.environ.get("GUNICORN_BIND", f"127.0.0.1:{os.environ.get('PORT', '8000')}")
workers = int(os.environ.get("WEB_CONCURRENCY", 2 * multiprocessing.cpu_count()))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
# Each web process gets a PostgreSQL connection pool as large as its threads, so a request never
# waits for a connection, unless DATABASE_POOL_MAX_SIZE says otherwise (0: no pool, a persistent
# connection per thread). Set here, while the file is read: the master reads the Django settings
# before any hook runs (for the logging), and the workers inherit them. Hence GUNICORN_THREADS,
# not --threads, to change the threads. docs/operations.md, "Database connections", has the sums.
os.environ.setdefault("DATABASE_POOL_MAX_SIZE", str(threads))
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "15"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = 30
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "5000"))
max_requests_jitter = max_requests // 10
# Vault logs one structured line per request itself; GUNICORN_ACCESS_LOG=- adds gunicorn's own.
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "") or None
errorlog = "-"
loglevel = parse_level(os.environ.get("LOG_LEVEL")).lower()
# gunicorn's own messages in the application's format (JSON unless LOG_FORMAT=console).
logconfig_dict = logging_config(level=loglevel.upper(), fmt=os.environ.get("LOG_FORMAT", "json").strip().lower())
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")


def on_exit(server) -> None:
    """The metrics files die with the server."""
    shutil.rmtree(_METRICS_DIR, ignore_errors=True)


def child_exit(server, worker) -> None:
    """A recycled or dead worker's live gauges leave the sum (its counters stay, as they should)."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
