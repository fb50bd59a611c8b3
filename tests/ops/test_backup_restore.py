"""The nightly dump restores into a sound Vault (docs/backup-restore.md, run as written there).

The demo data is seeded into a fresh database, dumped with `pg_dump --format=custom`, restored
with `pg_restore` into another; the restore has every table with the same rows (count and
content), the same sequence positions, triggers and constraints, `migrate --check` and
`vault_check` pass on it, and both fail once the restore is damaged. Both databases carry a
random suffix and are dropped whatever happens."""

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import dj_database_url
import psycopg
import pytest
from django.db import connection
from psycopg import sql

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db,  # only so that the test database exists; the test makes databases of its own
    pytest.mark.real_clock,  # subprocesses seed and check: they run on the real date
]

# Tables whose rows the demo data must have, so that "same rows" says something about each area.
KEY_TABLES = [
    "accounts_user",
    "inventory_lot",
    "inventory_movement",
    "inventory_position",
    "ledger_journalentry",
    "ledger_journalline",
    "financing_facility",
    "financing_tranche",
    "financing_interestaccrual",
    "drawdowns_drawdownrequest",
    "drawdowns_drawdowntransition",
    "coverage_coveragesnapshot",
    "core_outboxmessage",
    "django_migrations",
]
# A table's row count and a digest of all its rows, in a fixed order.
ROWS = sql.SQL("SELECT count(*), md5(COALESCE(string_agg(t::text, E'\\n' ORDER BY t::text), '')) FROM {} t")


def _server() -> dict[str, str]:
    db = connection.settings_dict
    return {
        "host": db["HOST"] or "127.0.0.1",
        "port": str(db["PORT"] or 5432),
        "user": db["USER"] or "postgres",
        "password": db["PASSWORD"] or "",
    }


def _connect(database: str, *, autocommit: bool = False) -> psycopg.Connection:
    server = _server()
    return psycopg.connect(
        host=server["host"],
        port=server["port"],
        user=server["user"],
        password=server["password"] or None,
        dbname=database,
        autocommit=autocommit,
    )


def _url(name: str) -> str:
    server = _server()
    password = f":{server['password']}" if server["password"] else ""
    return f"postgres://{server['user']}{password}@{server['host']}:{server['port']}/{name}"


def _run(argv: list[str], *, env: dict[str, str], timeout: int = 120) -> subprocess.CompletedProcess:
    return subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)  # noqa: S603


@pytest.fixture
def databases():
    """Two empty databases, named after the configured one with a random suffix; dropped after."""
    configured = os.environ.get("DATABASE_URL")
    stem = dj_database_url.parse(configured)["NAME"] if configured else "vault"
    suffix = secrets.token_hex(4)
    names = (f"{stem}_backup_{suffix}_source", f"{stem}_backup_{suffix}_restored")
    with _connect("postgres", autocommit=True) as admin:
        try:
            for name in names:
                admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            yield names
        finally:
            for name in names:
                admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture
def manage(tmp_path):
    """manage(database, *args) runs manage.py with the test settings against `database`."""
    base = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "PYTEST", "DATABASE_", "CELERY_", "CACHE_", "VAULT_"))
    }
    base.update(DJANGO_SETTINGS_MODULE="config.settings.test", VAULT_VAR_DIR=str(tmp_path / "var"), LOG_LEVEL="WARNING")

    def run(database: str, *args: str) -> subprocess.CompletedProcess:
        return _run([sys.executable, "manage.py", *args], env={**base, "DATABASE_URL": _url(database)}, timeout=180)

    return run


def _pg_env() -> dict[str, str]:
    server = _server()
    env = {**os.environ, "PGHOST": server["host"], "PGPORT": server["port"], "PGUSER": server["user"]}
    if server["password"]:
        env["PGPASSWORD"] = server["password"]
    return env


def _fingerprint(database: str) -> dict:
    """Every table's row count and a digest of its rows; sequence positions; triggers; constraints."""
    with _connect(database) as conn:
        tables = [
            row[0]
            for row in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
            ).fetchall()
        ]
        rows = {}
        for table in tables:
            rows[table] = conn.execute(ROWS.format(sql.Identifier(table))).fetchone()
        sequences = dict(
            conn.execute("SELECT sequencename, last_value FROM pg_sequences WHERE schemaname = 'public'").fetchall()
        )
        triggers = {
            tuple(row)
            for row in conn.execute(
                "SELECT c.relname, t.tgname, t.tgenabled FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                "WHERE NOT t.tgisinternal"
            ).fetchall()
        }
        constraints = {
            tuple(row)
            for row in conn.execute(
                "SELECT conrelid::regclass::text, conname, convalidated FROM pg_constraint c "
                "JOIN pg_namespace n ON n.oid = c.connamespace WHERE n.nspname = 'public'"
            ).fetchall()
        }
    return {"rows": rows, "sequences": sequences, "triggers": triggers, "constraints": constraints}


def _execute(database: str, statement: str) -> None:
    with _connect(database) as conn:
        conn.execute(statement)


def test_nightly_dump_restores_into_a_sound_vault(databases, manage, tmp_path):
    source, restored = databases
    for step in (("migrate", "--noinput", "-v0"), ("seed_demo", "--no-progress")):
        result = manage(source, *step)
        assert result.returncode == 0, result.stdout + result.stderr

    # The commands of docs/backup-restore.md.
    dump = tmp_path / "vault.dump"
    result = _run(["pg_dump", "--format=custom", f"--file={dump}", f"--dbname={source}"], env=_pg_env())
    assert result.returncode == 0, result.stderr
    listing = _run(["pg_restore", "--list", str(dump)], env=_pg_env())
    assert listing.returncode == 0 and "TABLE DATA public inventory_movement" in listing.stdout, listing.stderr
    result = _run(
        ["pg_restore", "--no-owner", "--exit-on-error", "--jobs=2", f"--dbname={restored}", str(dump)], env=_pg_env()
    )
    assert result.returncode == 0, result.stderr

    before, after = _fingerprint(source), _fingerprint(restored)
    for table in KEY_TABLES:
        assert before["rows"][table][0] > 0, f"the demo data has no {table} rows: the comparison would say little"
    assert after["rows"] == before["rows"]
    assert after["sequences"] == before["sequences"]  # new rows after a restore take fresh ids
    assert after["triggers"] == before["triggers"] and len(before["triggers"]) > 0
    assert after["constraints"] == before["constraints"]

    checked = manage(restored, "migrate", "--check")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    invariants = manage(restored, "vault_check")
    assert invariants.returncode == 0, invariants.stdout + invariants.stderr
    passed = set(re.findall(r"^ok\s+(\S+)$", invariants.stdout, re.MULTILINE))
    assert {"lot_equals_movements", "entry_balanced", "request_state_explained_by_history"} <= passed
    assert f"All {len(passed)} invariant checks passed." in invariants.stdout

    # The checks mean something: a stock figure edited by hand, and a migration missing, fail them.
    _execute(restored, "UPDATE inventory_lot SET on_hand = on_hand + 7 WHERE id = (SELECT MIN(id) FROM inventory_lot)")
    broken = manage(restored, "vault_check")
    assert broken.returncode == 1
    assert "FAIL lot_equals_movements" in broken.stdout
    assert "invariant checks failed" in broken.stderr
    # (one of Vault's own: the last row may be a squashed third-party migration whose replaced
    # migrations stay recorded, so that deleting it leaves nothing unapplied)
    _execute(
        restored,
        "DELETE FROM django_migrations WHERE id = (SELECT MAX(id) FROM django_migrations WHERE app = 'accounts')",
    )
    assert manage(restored, "migrate", "--check").returncode == 1
