"""Stock movements are append-only in the database itself (PostgreSQL): no UPDATE, no DELETE."""

from django.db import migrations

from vault.core.db import run_sql_for

SQL = """
CREATE OR REPLACE FUNCTION vault_forbid_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '% rows are append-only: post a reversal instead', TG_TABLE_NAME
        USING ERRCODE = '55000';
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER inventory_movement_immutable
    BEFORE UPDATE OR DELETE ON inventory_movement
    FOR EACH ROW EXECUTE FUNCTION vault_forbid_change();
"""


class Migration(migrations.Migration):
    dependencies = [("inventory", "0001_initial")]

    operations = [run_sql_for("postgresql", SQL)]
