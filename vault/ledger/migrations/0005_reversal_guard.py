"""A reversal points at an entry that is not itself a reversal (PostgreSQL trigger); the unique
constraint on `reverses` already lets an entry be reversed only once."""

from django.db import migrations

from vault.core.db import run_sql_for

SQL = """
CREATE OR REPLACE FUNCTION ledger_check_reversal() RETURNS trigger AS $$
BEGIN
    IF NEW.reverses_id IS NOT NULL AND EXISTS (
        SELECT 1 FROM ledger_journalentry WHERE id = NEW.reverses_id AND reverses_id IS NOT NULL
    ) THEN
        RAISE EXCEPTION 'journal entry % is a reversal and cannot be reversed', NEW.reverses_id
            USING ERRCODE = '23514';
    END IF;
    RETURN NEW;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER ledger_journalentry_reversal_guard
    BEFORE INSERT ON ledger_journalentry
    FOR EACH ROW EXECUTE FUNCTION ledger_check_reversal();
"""


class Migration(migrations.Migration):
    dependencies = [("ledger", "0004_account_subledger")]

    operations = [run_sql_for("postgresql", SQL)]
