"""Small database helpers shared by the apps."""

from django.db import connection


def is_postgres() -> bool:
    return connection.vendor == "postgresql"


def run_sql_for(vendor: str, sql: str):
    """A migration operation that runs `sql` only on the named database vendor."""
    from django.db import migrations

    def forward(apps, schema_editor):
        if schema_editor.connection.vendor == vendor:
            # A plain cursor with no parameters, so '%' in PL/pgSQL is not taken as a placeholder.
            with schema_editor.connection.cursor() as cursor:
                cursor.execute(sql)

    return migrations.RunPython(forward, migrations.RunPython.noop)
