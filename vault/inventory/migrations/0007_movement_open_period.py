from django.db import migrations, models

from vault.core.db import run_sql_for

# PostgreSQL: a movement dated on or before the books' lock date is refused, as a journal entry
# is (ledger 0008): the books' row is read FOR SHARE, so a close waits for the movements in
# flight and the movements that follow it read its date.
SQL = r"""
CREATE OR REPLACE FUNCTION inventory_movement_open_period() RETURNS trigger AS $$
DECLARE
    closed date;
BEGIN
    SELECT closed_through INTO closed FROM ledger_books WHERE id = 1 FOR SHARE;
    IF closed IS NOT NULL AND NEW.business_date <= closed THEN
        RAISE EXCEPTION 'period_closed: the books are closed through %; a movement dated % is refused',
            closed, NEW.business_date USING ERRCODE = '23514';
    END IF;
    RETURN NEW;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER inventory_movement_open_period
    BEFORE INSERT ON inventory_movement
    FOR EACH ROW EXECUTE FUNCTION inventory_movement_open_period();
"""

REVERSE_SQL = r"""
DROP TRIGGER IF EXISTS inventory_movement_open_period ON inventory_movement;
DROP FUNCTION IF EXISTS inventory_movement_open_period();
"""


class Migration(migrations.Migration):
    dependencies = [
        ("inventory", "0006_movement_business_date"),
        ("ledger", "0008_period_close_four_eyes"),
    ]

    operations = [
        migrations.AlterField(
            model_name="movement",
            name="business_date",
            field=models.DateField(
                help_text="The day the stock moved (its value date): what reports as of a date and its journal entry use."
            ),
        ),
        migrations.AlterField(
            model_name="movement",
            name="created_at",
            field=models.DateTimeField(auto_now_add=True, help_text="When the movement was recorded."),
        ),
        migrations.AddIndex(
            model_name="movement",
            index=models.Index(fields=["business_date"], name="inventory_m_busines_5eab3e_idx"),
        ),
        run_sql_for("postgresql", SQL, REVERSE_SQL),
    ]
