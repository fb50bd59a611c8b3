"""Database-held invariants of the journal (PostgreSQL): every entry balances at commit
(deferred constraint triggers, so even raw SQL cannot commit an unbalanced entry), and posted
entries and lines can never be updated or deleted."""

from django.db import migrations

from vault.core.db import run_sql_for

SQL = """
CREATE OR REPLACE FUNCTION ledger_check_entry_balanced() RETURNS trigger AS $$
DECLARE
    eid bigint;
    total_debit numeric;
    total_credit numeric;
    line_count integer;
BEGIN
    IF TG_TABLE_NAME = 'ledger_journalentry' THEN
        eid := NEW.id;
    ELSIF TG_OP = 'DELETE' THEN
        eid := OLD.entry_id;
    ELSE
        eid := NEW.entry_id;
    END IF;
    SELECT COALESCE(SUM(debit), 0), COALESCE(SUM(credit), 0), COUNT(*)
      INTO total_debit, total_credit, line_count
      FROM ledger_journalline WHERE entry_id = eid;
    IF line_count < 2 OR total_debit <> total_credit THEN
        RAISE EXCEPTION 'journal entry % is unbalanced: % lines, debits %, credits %',
            eid, line_count, total_debit, total_credit
            USING ERRCODE = '23514';
    END IF;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;

CREATE CONSTRAINT TRIGGER ledger_line_balanced
    AFTER INSERT OR UPDATE OR DELETE ON ledger_journalline
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION ledger_check_entry_balanced();

CREATE CONSTRAINT TRIGGER ledger_entry_balanced
    AFTER INSERT ON ledger_journalentry
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION ledger_check_entry_balanced();

CREATE OR REPLACE FUNCTION vault_forbid_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '% rows are append-only: post a reversal instead', TG_TABLE_NAME
        USING ERRCODE = '55000';
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER ledger_journalentry_immutable
    BEFORE UPDATE OR DELETE ON ledger_journalentry
    FOR EACH ROW EXECUTE FUNCTION vault_forbid_change();

CREATE TRIGGER ledger_journalline_immutable
    BEFORE UPDATE OR DELETE ON ledger_journalline
    FOR EACH ROW EXECUTE FUNCTION vault_forbid_change();
"""


class Migration(migrations.Migration):
    dependencies = [("ledger", "0001_initial")]

    operations = [run_sql_for("postgresql", SQL)]
