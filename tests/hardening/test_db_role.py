"""The application's database role owns nothing (docs/security.md, "Least privilege in the database").

One installation is made as the docs say: `deploy/db_roles.sql`, run by psql as a superuser,
creates an owner, an application role and their database; `manage.py migrate` runs with
MIGRATE_DATABASE_URL (the owner) and DATABASE_URL (the application role). Then, with raw SQL as
the application role, every way around the schema and the append-only triggers is refused
(SQLSTATE 42501): TRUNCATE, ALTER TABLE, DISABLE or DROP TRIGGER, replacing a trigger function,
DROP TABLE, CREATE in public, temporary tables, `session_replication_role`, UPDATE or DELETE of an
append-only row, GRANT, CREATE ROLE, SET ROLE, server files. The owner, who could disable a
trigger, is still stopped by it. And the application does its work as that role: the demo seed,
`vault_check`, beat, and the tests of what it writes and deletes (run as that role).

Roles belong to the whole cluster and two xdist workers run at once: every name carries the
worker and a random suffix. Databases and roles are dropped whatever happens."""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import dj_database_url
import psycopg
import pytest
from django.conf import settings
from django.db import connection
from psycopg import errors, sql

from tests.conftest import postgres_required
from tests.hardening.processes import Process, wait_for
from vault.core import dbroles

ROOT = Path(__file__).resolve().parents[2]
ROLES_SQL = ROOT / "deploy" / "db_roles.sql"

pytestmark = [
    pytest.mark.real_clock,  # migrate, the seed, beat and pytest run in subprocesses
    pytest.mark.django_db,  # only so that the test database exists; the tests make databases of their own
]

# The tables whose rows a trigger forbids to update or delete, as the migrations made them.
APPEND_ONLY = [
    "accounts_secondfactorevent",
    "drawdowns_drawdowntransition",
    "financing_feereceipt",
    "financing_interestaccrual",
    "financing_interestpayment",
    "financing_repayment",
    "integrity_seal",
    "inventory_movement",
    "ledger_downloadrecord",
    "ledger_journalentry",
    "ledger_journalline",
    "ledger_periodclose",
]
# Tests of what the application writes, updates and deletes (retention prunes, idempotency keys,
# inbound deliveries, API tokens, sessions, lockouts, tranches, repayments, reversals, fulfilments,
# download records), run as the application role in the migrated database.
APP_TESTS = [
    "tests/core/test_outbox_ops.py",
    "tests/drawdowns/test_idempotency.py",
    "tests/coverage/test_inbound.py",
    "tests/accounts/test_passwords.py",
    "tests/accounts/test_token.py",
    "tests/core/test_sessions.py",
    "tests/financing/test_tranche_workflow.py",
    "tests/financing/test_repayment_interest_fee.py",
    "tests/inventory/test_movement_reverse.py",
    "tests/drawdowns/test_drawdown_fulfil.py",
    "tests/ledger/test_exports.py",
]


@dataclass
class Cluster:
    """The PostgreSQL server of the test database, reached as its (super)user."""

    host: str
    port: str
    user: str
    password: str
    passwords: dict[str, str] = field(default_factory=dict)

    def url(self, database: str, role: str | None = None) -> str:
        role = role or self.user
        password = self.passwords.get(role, self.password if role == self.user else "")
        auth = f"{role}:{password}" if password else role
        return f"postgres://{auth}@{self.host}:{self.port}/{database}"

    def connect(self, database: str, role: str | None = None, *, autocommit: bool = False) -> psycopg.Connection:
        return psycopg.connect(self.url(database, role), autocommit=autocommit)

    def psql_env(self) -> dict[str, str]:
        env = {**os.environ, "PGHOST": self.host, "PGPORT": self.port, "PGUSER": self.user, "PGDATABASE": "postgres"}
        if self.password:
            env["PGPASSWORD"] = self.password
        return env


@dataclass
class Installation:
    cluster: Cluster
    database: str
    blank: str  # a database made by deploy/db_roles.sql and never migrated
    owner: str
    app: str
    tmp: Path
    results: dict[str, subprocess.CompletedProcess] = field(default_factory=dict)

    def connect(self, role: str, *, database: str | None = None) -> psycopg.Connection:
        return self.cluster.connect(database or self.database, role)

    def manage(
        self, *args: str, database: str | None = None, app: str | None = None, owner: str | None = None, timeout=180
    ):
        """manage.py with the test settings; DATABASE_URL as `app` (the application role by default),
        MIGRATE_DATABASE_URL as `owner` when given."""
        database = database or self.database
        env = _clean_env(self.tmp)
        env["DATABASE_URL"] = self.cluster.url(database, app or self.app)
        if owner:
            env["MIGRATE_DATABASE_URL"] = self.cluster.url(database, owner)
        return _run([sys.executable, "manage.py", *args], env=env, timeout=timeout)

    def migrate(self, *args: str, **kwargs):
        return self.manage("migrate", "--noinput", *args, owner=kwargs.pop("owner", self.owner), **kwargs)


def _clean_env(tmp: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "PYTEST", "DATABASE_", "MIGRATE_", "CELERY_", "CACHE_", "VAULT_"))
    }
    env.update(DJANGO_SETTINGS_MODULE="config.settings.test", VAULT_VAR_DIR=str(tmp / "var"), LOG_LEVEL="WARNING")
    return env


def _run(argv: list[str], *, env: dict[str, str], timeout: int = 180) -> subprocess.CompletedProcess:
    return subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)  # noqa: S603


def _output(result: subprocess.CompletedProcess) -> str:
    return f"exit {result.returncode}\n--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"


def _roles_sql(cluster: Cluster, *, owner: str, app: str, database: str) -> None:
    """deploy/db_roles.sql, as the docs run it."""
    argv = ["psql", "-X", "-q", "-v", f"owner={owner}", "-v", f"app={app}", "-v", f"db={database}", "-f", ROLES_SQL]
    result = _run([str(a) for a in argv], env=cluster.psql_env(), timeout=60)
    assert result.returncode == 0, _output(result)


def _drop(cluster: Cluster, *, databases: list[str], roles: list[str]) -> None:
    with cluster.connect("postgres", autocommit=True) as admin:
        for name in databases:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        for name in roles:
            admin.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(name)))


@pytest.fixture(scope="module")
def cluster() -> Cluster:
    postgres_required()
    db = connection.settings_dict
    return Cluster(
        host=db["HOST"] or "127.0.0.1", port=str(db["PORT"] or 5432), user=db["USER"], password=db["PASSWORD"] or ""
    )


@pytest.fixture(scope="module")
def installation(cluster: Cluster, tmp_path_factory) -> Iterator[Installation]:
    """Roles and database by deploy/db_roles.sql, migrated as the owner; then, as the application
    role, the tests of APP_TESTS (before any data), the demo seed and vault_check."""
    configured = os.environ.get("DATABASE_URL")
    stem = dj_database_url.parse(configured)["NAME"] if configured else "vault"
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    suffix = f"{worker}_{secrets.token_hex(3)}"
    owner, app = f"vault_t_{suffix}_owner", f"vault_t_{suffix}_app"
    inst = Installation(
        cluster=cluster,
        database=f"{stem}_dbrole_{suffix}",
        blank=f"{stem}_dbrole_{suffix}_blank",
        owner=owner,
        app=app,
        tmp=tmp_path_factory.mktemp("dbrole"),
    )
    try:
        for database in (inst.database, inst.blank):
            _roles_sql(cluster, owner=owner, app=app, database=database)
        with cluster.connect("postgres", autocommit=True) as admin:  # password logins, whatever the auth method
            for role in (owner, app):
                cluster.passwords[role] = secrets.token_urlsafe(16)
                admin.execute(
                    sql.SQL("ALTER ROLE {} PASSWORD {}").format(
                        sql.Identifier(role), sql.Literal(cluster.passwords[role])
                    )
                )
        inst.results["migrate"] = migrated = inst.migrate()
        assert migrated.returncode == 0, _output(migrated)

        env = _clean_env(inst.tmp)
        env.update(DATABASE_URL=cluster.url(inst.database, app), VAULT_TEST_EXISTING_DATABASE="1")
        argv = [sys.executable, "-m", "pytest", "--ds=config.settings.test", "-p", "no:randomly", "-p", "no:xdist"]
        # A migration test makes a table of its own: DDL, which the application role may not do.
        argv += [
            "--deselect",
            "tests/accounts/test_token.py::test_the_migration_drops_drfs_token_table_and_its_records",
        ]
        inst.results["app_tests"] = _run([*argv, *APP_TESTS], env=env, timeout=600)

        inst.results["seed"] = inst.manage("seed_demo", "--no-progress")
        inst.results["check"] = inst.manage("vault_check")
        yield inst
    finally:
        _drop(cluster, databases=[inst.database, inst.blank], roles=[app, owner])


def _refused(inst: Installation, statement: str, *, role: str | None = None) -> psycopg.Error:
    """Run `statement` as `role` (the application role by default) in a transaction rolled back;
    return the error it raised, which must be PostgreSQL's insufficient_privilege (42501)."""
    with inst.connect(role or inst.app) as conn:
        with pytest.raises(errors.InsufficientPrivilege) as raised:
            conn.execute(statement)
        conn.rollback()
    return raised.value


# --- the installation ------------------------------------------------------------------------------


def test_migrate_ran_as_the_owner_and_the_application_role_owns_nothing(installation):
    inst = installation
    assert f"Granted {inst.app}: SELECT, INSERT, UPDATE, DELETE on" in inst.results["migrate"].stdout
    with inst.connect(inst.owner) as conn:
        owner_oid, app_oid = (
            conn.execute("SELECT oid FROM pg_roles WHERE rolname = %s", [name]).fetchone()[0]
            for name in (inst.owner, inst.app)
        )
        assert conn.execute("SELECT count(*) FROM django_migrations").fetchone()[0] > 20
        database_owner = "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = current_database()"
        assert conn.execute(database_owner).fetchone()[0] == inst.owner
        foreign = conn.execute(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'public' AND c.relowner <> %s "
            "UNION ALL SELECT p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
            "WHERE n.nspname = 'public' AND p.proowner <> %s",
            [owner_oid, owner_oid],
        ).fetchall()
        assert foreign == []  # tables, sequences, indexes, trigger functions: all the owner's
        assert (
            conn.execute(
                "SELECT count(*) FROM pg_shdepend WHERE refobjid = %s AND deptype = 'o'", [app_oid]
            ).fetchone()[0]
            == 0
        )
        attributes = conn.execute(
            "SELECT rolsuper, rolcreaterole, rolcreatedb, rolreplication, rolbypassrls, rolinherit "
            "FROM pg_roles WHERE oid = %s",
            [app_oid],
        ).fetchone()
        assert attributes == (False,) * 6
        assert conn.execute("SELECT count(*) FROM pg_auth_members WHERE member = %s", [app_oid]).fetchone()[0] == 0
        # The command's own checks agree.
        with conn.cursor() as cursor:
            assert dbroles.role_problems(cursor, app=inst.app, owner=inst.owner) == []
            assert dbroles.privilege_problems(cursor, app=inst.app) == []
            assert dbroles.ownership_problems(cursor, owner=inst.owner) == []


def test_the_append_only_tables_are_read_from_their_triggers(installation):
    with installation.connect(installation.app) as conn, conn.cursor() as cursor:
        assert dbroles.append_only_tables(cursor) == APPEND_ONLY


# --- what the application role may not do -------------------------------------------------------------

REFUSED = {
    "truncate an append-only table": "TRUNCATE inventory_movement",
    "truncate a table it may delete from": "TRUNCATE core_outboxmessage",
    "truncate with cascade": "TRUNCATE ledger_journalentry CASCADE",
    "add a column": "ALTER TABLE inventory_lot ADD COLUMN backdoor integer",
    "drop a constraint": "ALTER TABLE inventory_lot DROP CONSTRAINT IF EXISTS inventory_lot_on_hand_nonnegative",
    "disable an append-only trigger": "ALTER TABLE inventory_movement DISABLE TRIGGER inventory_movement_immutable",
    "disable every trigger": "ALTER TABLE ledger_journalline DISABLE TRIGGER ALL",
    "make a trigger fire on replicas only": "ALTER TABLE inventory_movement "
    "ENABLE REPLICA TRIGGER inventory_movement_immutable",
    "drop a trigger": "DROP TRIGGER inventory_movement_immutable ON inventory_movement",
    "drop the trigger function": "DROP FUNCTION vault_forbid_change() CASCADE",
    "replace the trigger function": "CREATE OR REPLACE FUNCTION vault_forbid_change() RETURNS trigger "
    "LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$",
    "add a trigger": "CREATE TRIGGER backdoor BEFORE INSERT ON inventory_lot "
    "FOR EACH ROW EXECUTE FUNCTION vault_forbid_change()",
    "drop a table": "DROP TABLE inventory_movement",
    "take a table over": "ALTER TABLE inventory_movement OWNER TO CURRENT_USER",
    "create a table in public": "CREATE TABLE public.backdoor (id integer)",
    "create a table on the search path": "CREATE TABLE backdoor (id integer)",
    "create a temporary table": "CREATE TEMPORARY TABLE backdoor (id integer)",
    "create a schema": "CREATE SCHEMA backdoor",
    "skip every trigger with session_replication_role": "SET session_replication_role = replica",
    "the same through set_config": "SELECT set_config('session_replication_role', 'replica', false)",
    "the same for every later session": "ALTER ROLE CURRENT_USER SET session_replication_role = replica",
    "lock the stock ledger against everyone": "LOCK TABLE inventory_movement IN ACCESS EXCLUSIVE MODE",
    "move a sequence back": "SELECT setval(pg_get_serial_sequence('inventory_movement', 'id'), 1)",
    "create a role": "CREATE ROLE backdoor LOGIN SUPERUSER",
    "become a superuser": "ALTER ROLE CURRENT_USER SUPERUSER",
    "bypass row security": "ALTER ROLE CURRENT_USER BYPASSRLS",
    "write a server file": "COPY inventory_movement TO '/tmp/vault-movements.csv'",
    "run a server program": "COPY inventory_lot FROM PROGRAM 'true'",
    "read a server file": "SELECT pg_read_file('/etc/hostname')",
}


@pytest.mark.parametrize("statement", REFUSED.values(), ids=REFUSED.keys())
def test_the_application_role_is_refused(installation, statement):
    _refused(installation, statement)


@pytest.mark.parametrize("table", APPEND_ONLY)
@pytest.mark.parametrize("statement", ["UPDATE {} SET id = id", "DELETE FROM {}"], ids=["update", "delete"])
def test_the_application_role_may_not_update_or_delete_an_append_only_row(installation, table, statement):
    """Refused by the privilege system, before any row is read: the trigger is never reached."""
    error = _refused(installation, sql.SQL(statement).format(sql.Identifier(table)).as_string(None))
    assert f"permission denied for table {table}" in str(error)


def test_the_application_role_may_not_act_as_the_owner_or_grant(installation):
    inst = installation
    _refused(inst, sql.SQL("SET ROLE {}").format(sql.Identifier(inst.owner)).as_string(None))
    _refused(inst, sql.SQL("GRANT {} TO CURRENT_USER").format(sql.Identifier(inst.owner)).as_string(None))
    # GRANT without the grant option is no error, only a warning: and nothing is granted.
    notices: list[str] = []
    with inst.connect(inst.app) as conn:
        conn.add_notice_handler(lambda diag: notices.append(diag.message_primary or ""))
        conn.execute("GRANT UPDATE, DELETE, TRUNCATE ON inventory_movement TO CURRENT_USER")
        conn.execute("GRANT ALL ON core_outboxmessage TO PUBLIC")
        conn.commit()
        held = conn.execute(
            "SELECT has_table_privilege('inventory_movement', 'UPDATE'), "
            "has_table_privilege('inventory_movement', 'TRUNCATE'), "
            "has_table_privilege('core_outboxmessage', 'TRUNCATE')"
        ).fetchone()
    assert held == (False, False, False)
    assert any("no privileges were granted" in notice for notice in notices), notices


def test_the_owner_is_still_stopped_by_the_triggers_which_it_alone_could_disable(installation):
    """What the application role lacks matters: the owner may disable a trigger (rolled back here)."""
    inst = installation
    with inst.connect(inst.owner) as conn:
        with pytest.raises(errors.ObjectNotInPrerequisiteState, match="inventory_movement rows are append-only"):
            conn.execute("UPDATE inventory_movement SET reason = 'edited'")
        conn.rollback()
        conn.execute("ALTER TABLE inventory_movement DISABLE TRIGGER inventory_movement_immutable")
        conn.rollback()


# --- what the application role does -------------------------------------------------------------------


def test_the_application_role_seeds_and_checks_the_demo_data(installation):
    seed, check = installation.results["seed"], installation.results["check"]
    assert seed.returncode == 0, _output(seed)
    assert "Demo data ready" in seed.stdout
    assert check.returncode == 0, _output(check)
    assert re.search(r"All \d+ invariant checks passed\.", check.stdout), _output(check)


def test_the_application_role_reads_and_writes_with_raw_sql(installation):
    """INSERT into an append-only table (its identity column included), UPDATE and DELETE elsewhere."""
    with installation.connect(installation.app) as conn:
        columns = [
            row[0]
            for row in conn.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = 'inventory_movement' "
                "AND column_name <> 'id' ORDER BY ordinal_position"
            )
        ]
        names = sql.SQL(", ").join(map(sql.Identifier, columns))
        copied = conn.execute(
            sql.SQL(
                "INSERT INTO inventory_movement ({0}) SELECT {0} FROM inventory_movement LIMIT 1 RETURNING id"
            ).format(names)
        ).fetchone()
        assert copied is not None
        assert conn.execute("UPDATE accounts_user SET last_login = now()").rowcount > 0
        conn.execute("DELETE FROM core_outboxmessage")
        conn.rollback()


def test_the_tests_of_what_the_application_writes_pass_as_its_role(installation):
    result = installation.results["app_tests"]
    assert result.returncode == 0, _output(result)
    passed = re.search(r"(\d+) passed", result.stdout)
    assert passed and int(passed.group(1)) > 100, _output(result)
    assert not re.search(r"\d+ (failed|error)", result.stdout), _output(result)


def test_beat_runs_as_the_application_role(installation):
    """django-celery-beat's scheduler takes the beat lock (an advisory lock), writes the schedule at
    its takeover, and saves each entry's last run time after sending it."""
    inst = installation
    env = _clean_env(inst.tmp)
    env.update(DATABASE_URL=inst.cluster.url(inst.database, inst.app), LOG_LEVEL="INFO", PYTHONUNBUFFERED="1")
    argv = [sys.executable, "-m", "celery", "-A", "config", "beat"]

    def scheduled() -> bool:
        with inst.connect(inst.app) as conn:
            names = {row[0] for row in conn.execute("SELECT name FROM django_celery_beat_periodictask")}
        return set(settings.CELERY_BEAT_SCHEDULE) <= names

    def beat(run: int, needle: str) -> str:
        process = Process(f"beat{run}", argv, log=inst.tmp / f"beat{run}.log", env=env)
        try:
            process.wait_log(needle, timeout=60)
            wait_for(scheduled, timeout=30, what="the schedule in django_celery_beat_periodictask")
        finally:
            process.stop()
        return process.log.read_text()

    log = beat(1, "beat: took the PostgreSQL advisory lock")
    with inst.connect(inst.app) as conn:
        # Due now (it runs every 30 s): the next beat sends it at once.
        conn.execute(
            "UPDATE django_celery_beat_periodictask SET last_run_at = now() - interval '1 hour' "
            "WHERE name = 'outbox-drain'"
        )
        conn.commit()
    log += beat(2, "Sending due task outbox-drain")
    with inst.connect(inst.app) as conn:
        saved = conn.execute(
            "SELECT now() - last_run_at < interval '5 minutes' FROM django_celery_beat_periodictask "
            "WHERE name = 'outbox-drain'"
        ).fetchone()
    assert saved == (True,), log
    assert "Traceback" not in log and "ERROR" not in log, log


# --- later migrations and re-runs -----------------------------------------------------------------------


def test_a_table_the_owner_makes_later_is_granted_by_default(installation):
    inst = installation
    with inst.connect(inst.owner) as conn:
        conn.execute("CREATE TABLE later (id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, note text)")
        conn.commit()
    try:
        with inst.connect(inst.app) as conn:
            conn.execute("INSERT INTO later (note) VALUES ('one'), ('two')")
            assert conn.execute("UPDATE later SET note = 'three' WHERE note = 'two'").rowcount == 1
            assert conn.execute("DELETE FROM later WHERE note = 'one'").rowcount == 1
            assert conn.execute("SELECT note FROM later").fetchall() == [("three",)]
            conn.commit()
        _refused(inst, "TRUNCATE later")
        _refused(inst, "ALTER TABLE later ADD COLUMN backdoor integer")
    finally:
        with inst.connect(inst.owner) as conn:
            conn.execute("DROP TABLE later")
            conn.commit()


def test_migrate_again_puts_back_exactly_the_grants(installation):
    inst = installation
    with inst.connect(inst.owner) as conn:
        app = sql.Identifier(inst.app)
        conn.execute(sql.SQL("GRANT TRUNCATE ON core_outboxmessage TO {}").format(app))
        conn.execute(sql.SQL("GRANT UPDATE (reason) ON inventory_movement TO {}").format(app))
        conn.execute(sql.SQL("REVOKE DELETE ON core_outboxmessage FROM {}").format(app))
        conn.execute("GRANT SELECT ON inventory_lot TO PUBLIC")
        conn.commit()
        with conn.cursor() as cursor:
            drift = dbroles.privilege_problems(cursor, app=inst.app)
    assert len(drift) == 3, drift  # PUBLIC's SELECT on lots is one the application has anyway

    again = inst.migrate()
    assert again.returncode == 0, _output(again)
    assert "No migrations to apply." in again.stdout
    with inst.connect(inst.owner) as conn, conn.cursor() as cursor:
        assert dbroles.privilege_problems(cursor, app=inst.app) == []
        assert cursor.execute("SELECT has_table_privilege('public', 'inventory_lot', 'SELECT')").fetchone() == (False,)


# --- what migrate refuses -----------------------------------------------------------------------------------


@dataclass
class Misconfiguration:
    message: str
    setup: str = ""  # SQL run as the superuser in the blank database before, and...
    undo: str = ""  # ...after
    app: str | None = None  # DATABASE_URL's role: the application role unless named
    other_database: bool = False


MISCONFIGURATIONS = {
    "the application connects as the owner": Misconfiguration(
        "the application must connect as a role of its own", app="{owner}"
    ),
    "the application connects as a superuser": Misconfiguration("is a superuser", app="{superuser}"),
    "the application role is a member of the owner": Misconfiguration(
        "is a member of {owner}", setup='GRANT "{owner}" TO "{app}"', undo='REVOKE "{owner}" FROM "{app}"'
    ),
    "the application role owns a table": Misconfiguration(
        "owns 1 objects here",
        setup='CREATE TABLE mine (id int); ALTER TABLE mine OWNER TO "{app}"',
        undo="DROP TABLE mine",
    ),
    "everyone may create temporary tables": Misconfiguration(
        "may create temporary tables",
        setup='GRANT TEMPORARY ON DATABASE "{blank}" TO PUBLIC',
        undo='REVOKE TEMPORARY ON DATABASE "{blank}" FROM PUBLIC',
    ),
    "everyone may create in public": Misconfiguration(
        "may create objects in schema public",
        setup="GRANT CREATE ON SCHEMA public TO PUBLIC",
        undo="REVOKE CREATE ON SCHEMA public FROM PUBLIC",
    ),
    "the URLs name two databases": Misconfiguration(
        "migrations must run on the database the application uses", other_database=True
    ),
}


@pytest.mark.parametrize("case", MISCONFIGURATIONS.values(), ids=MISCONFIGURATIONS.keys())
def test_migrate_refuses_a_role_that_could_get_around_the_grants_and_changes_nothing(installation, case):
    inst = installation
    names = {"owner": inst.owner, "app": inst.app, "blank": inst.blank, "superuser": inst.cluster.user}
    with inst.cluster.connect(inst.blank, autocommit=True) as admin:
        if case.setup:
            admin.execute(case.setup.format(**names))
        try:
            env = _clean_env(inst.tmp)
            env["DATABASE_URL"] = inst.cluster.url(
                inst.database if case.other_database else inst.blank, (case.app or "{app}").format(**names)
            )
            env["MIGRATE_DATABASE_URL"] = inst.cluster.url(inst.blank, inst.owner)
            result = _run([sys.executable, "manage.py", "migrate", "--noinput"], env=env)
        finally:
            if case.undo:
                admin.execute(case.undo.format(**names))
        assert result.returncode == 1, _output(result)
        assert case.message.format(**names) in result.stderr, _output(result)
        assert admin.execute("SELECT to_regclass('django_migrations')").fetchone()[0] is None  # nothing migrated


def test_an_installation_migrated_before_the_split_is_taken_over(installation):
    """A database that a superuser made and migrated (every table its own) is given to the owner by
    deploy/db_roles.sql; migrate then runs as the owner and grants the application role."""
    inst, cluster = installation, installation.cluster
    legacy = f"{inst.database}_legacy"
    with cluster.connect("postgres", autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(legacy)))
    try:
        before = inst.manage("migrate", "--noinput", "-v0", database=legacy, app=cluster.user)
        assert before.returncode == 0, _output(before)
        refused = inst.migrate(database=legacy)
        assert refused.returncode == 1 and "are not owned by" in refused.stderr, _output(refused)

        _roles_sql(cluster, owner=inst.owner, app=inst.app, database=legacy)
        after = inst.migrate(database=legacy)
        assert after.returncode == 0, _output(after)
        with inst.connect(inst.owner, database=legacy) as conn, conn.cursor() as cursor:
            assert dbroles.ownership_problems(cursor, owner=inst.owner) == []
            assert dbroles.role_problems(cursor, app=inst.app, owner=inst.owner) == []
            assert dbroles.privilege_problems(cursor, app=inst.app) == []
        with inst.connect(inst.app, database=legacy) as conn:
            assert conn.execute("SELECT count(*) FROM ledger_account").fetchone()[0] > 0
    finally:
        _drop(cluster, databases=[legacy], roles=[])
