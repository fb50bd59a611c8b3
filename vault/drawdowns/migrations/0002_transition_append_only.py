"""A request's state history is append-only in the database itself (PostgreSQL)."""

from django.db import migrations

from vault.core.db import run_sql_for

SQL = """
CREATE OR REPLACE FUNCTION drawdowns_forbid_history_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '% rows are append-only: the state history is never edited', TG_TABLE_NAME
        USING ERRCODE = '55000';
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER drawdowns_transition_immutable
    BEFORE UPDATE OR DELETE ON drawdowns_drawdowntransition
    FOR EACH ROW EXECUTE FUNCTION drawdowns_forbid_history_change();
"""


class Migration(migrations.Migration):
    dependencies = [("drawdowns", "0001_initial")]

    operations = [run_sql_for("postgresql", SQL)]
