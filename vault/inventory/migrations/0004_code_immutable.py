"""Material and site codes are the API's natural keys (/api/v1/materials/NDPR-OX/): clients store
them, so the database refuses an UPDATE that changes one, on PostgreSQL and on SQLite alike.
The error is a check violation (an IntegrityError), as for any other refused value.

A later migration that rebuilds one of these tables on SQLite (Django copies the table to alter
it) drops its triggers: such a migration must run this one's SQLite statements again."""

from django.db import migrations

from vault.core.db import run_sql_for

TABLES = ["inventory_material", "inventory_site"]

POSTGRES = """
CREATE OR REPLACE FUNCTION vault_forbid_code_change() RETURNS trigger AS $$
BEGIN
    IF NEW.code IS DISTINCT FROM OLD.code THEN
        RAISE EXCEPTION '%.code is immutable: % cannot be renamed', TG_TABLE_NAME, OLD.code
            USING ERRCODE = '23514';
    END IF;
    RETURN NEW;
END
$$ LANGUAGE plpgsql;
""" + "".join(
    f"""
CREATE TRIGGER {table}_code_immutable
    BEFORE UPDATE OF code ON {table}
    FOR EACH ROW EXECUTE FUNCTION vault_forbid_code_change();
"""
    for table in TABLES
)

# SQLite runs one statement per execute(): one trigger each.
SQLITE = [
    f"""
CREATE TRIGGER {table}_code_immutable
    BEFORE UPDATE OF code ON {table}
    FOR EACH ROW WHEN NEW.code IS NOT OLD.code
BEGIN
    SELECT RAISE(ABORT, '{table}.code is immutable: a code cannot be renamed');
END
"""
    for table in TABLES
]


class Migration(migrations.Migration):
    dependencies = [("inventory", "0003_movement_indexes")]

    operations = [run_sql_for("postgresql", POSTGRES), *(run_sql_for("sqlite", sql) for sql in SQLITE)]
