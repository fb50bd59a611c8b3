"""Small database helpers shared by the apps."""

from django.db import connection


def is_postgres() -> bool:
    return connection.vendor == "postgresql"


def run_sql_for(vendor: str, sql: str, reverse_sql: str | None = None):
    """A migration operation that runs `sql` only on the named database vendor (and
    `reverse_sql`, when given, on the way back; else the way back does nothing)."""
    from django.db import migrations

    def run(statement: str):
        def operation(apps, schema_editor):
            if schema_editor.connection.vendor == vendor:
                # A plain cursor with no parameters, so '%' in PL/pgSQL is not taken as a placeholder.
                with schema_editor.connection.cursor() as cursor:
                    cursor.execute(statement)

        return operation

    return migrations.RunPython(run(sql), run(reverse_sql) if reverse_sql else migrations.RunPython.noop)


# TRUNCATE fires no row trigger, so the append-only tables' "no UPDATE, no DELETE" triggers would
# not stop it: a statement trigger refuses it. The application role may not TRUNCATE at all (its
# grants); this stops the owner's accidental TRUNCATE, a `manage.py flush`, or a truncating tool.
# Setting `vault.truncate_append_only` to `on` for one transaction (SET LOCAL) lets the owner
# empty them on purpose: the test suite's flush between transactional tests does (tests/conftest.py).
TRUNCATE_GUARD_FUNCTION = """
CREATE OR REPLACE FUNCTION vault_forbid_truncate() RETURNS trigger AS $$
BEGIN
    IF current_setting('vault.truncate_append_only', true) = 'on' THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION '% is append-only: TRUNCATE is refused', TG_TABLE_NAME
        USING ERRCODE = '55000';
END
$$ LANGUAGE plpgsql;
"""


def truncate_guard_sql(*tables: str) -> tuple[str, str]:
    """The SQL that refuses TRUNCATE on each table (PostgreSQL), and the SQL that undoes it."""
    create = "".join(
        f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
        f"FOR EACH STATEMENT EXECUTE FUNCTION vault_forbid_truncate();\n"
        for table in tables
    )
    drop = "".join(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table};\n" for table in tables)
    return TRUNCATE_GUARD_FUNCTION + create, drop


def forbid_truncate(*tables: str):
    """A migration operation refusing TRUNCATE on the append-only `tables` (PostgreSQL only)."""
    return run_sql_for("postgresql", *truncate_guard_sql(*tables))
