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
