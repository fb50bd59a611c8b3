"""Database-held invariants of the financing (PostgreSQL).

- A facility's maintained `disbursed` and `repaid` equal, at every commit, the sums of its
  disbursed tranches and of its repayments (deferred constraint triggers on the three tables).
  With the CHECK constraints disbursed <= commitment and repaid <= disbursed, even raw SQL
  cannot disburse beyond the commitment: a tranche marked disbursed without moving the total
  fails at COMMIT, and moving the total beyond the commitment fails at once.
- A disbursed or cancelled tranche is final: no update, no delete.
- Repayments, interest accruals and interest payments are append-only, like the journal.
"""

from django.db import migrations

from vault.core.db import run_sql_for

SQL = """
CREATE OR REPLACE FUNCTION financing_check_facility_totals() RETURNS trigger AS $$
DECLARE
    fid bigint;
    fac record;
    tranche_total numeric;
    repaid_total numeric;
BEGIN
    IF TG_TABLE_NAME = 'financing_facility' THEN
        fid := NEW.id;
    ELSIF TG_OP = 'DELETE' THEN
        fid := OLD.facility_id;
    ELSE
        fid := NEW.facility_id;
    END IF;
    SELECT code, disbursed, repaid INTO fac FROM financing_facility WHERE id = fid;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    SELECT COALESCE(SUM(amount), 0) INTO tranche_total
      FROM financing_tranche WHERE facility_id = fid AND status = 'disbursed';
    SELECT COALESCE(SUM(amount), 0) INTO repaid_total
      FROM financing_repayment WHERE facility_id = fid;
    IF tranche_total <> fac.disbursed OR repaid_total <> fac.repaid THEN
        RAISE EXCEPTION 'facility % totals out of step: disbursed % vs tranches %, repaid % vs repayments %',
            fac.code, fac.disbursed, tranche_total, fac.repaid, repaid_total
            USING ERRCODE = '23514';
    END IF;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;

CREATE CONSTRAINT TRIGGER financing_tranche_totals
    AFTER INSERT OR UPDATE OR DELETE ON financing_tranche
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION financing_check_facility_totals();

CREATE CONSTRAINT TRIGGER financing_repayment_totals
    AFTER INSERT OR UPDATE OR DELETE ON financing_repayment
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION financing_check_facility_totals();

CREATE CONSTRAINT TRIGGER financing_facility_totals
    AFTER UPDATE OF disbursed, repaid ON financing_facility
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION financing_check_facility_totals();

CREATE OR REPLACE FUNCTION financing_tranche_final() RETURNS trigger AS $$
BEGIN
    IF OLD.status IN ('disbursed', 'cancelled') THEN
        RAISE EXCEPTION 'tranche % is %: it cannot change', OLD.id, OLD.status
            USING ERRCODE = '55000';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER financing_tranche_final
    BEFORE UPDATE OR DELETE ON financing_tranche
    FOR EACH ROW EXECUTE FUNCTION financing_tranche_final();

CREATE TRIGGER financing_repayment_immutable
    BEFORE UPDATE OR DELETE ON financing_repayment
    FOR EACH ROW EXECUTE FUNCTION vault_forbid_change();

CREATE TRIGGER financing_interestaccrual_immutable
    BEFORE UPDATE OR DELETE ON financing_interestaccrual
    FOR EACH ROW EXECUTE FUNCTION vault_forbid_change();

CREATE TRIGGER financing_interestpayment_immutable
    BEFORE UPDATE OR DELETE ON financing_interestpayment
    FOR EACH ROW EXECUTE FUNCTION vault_forbid_change();

CREATE TRIGGER financing_feereceipt_immutable
    BEFORE UPDATE OR DELETE ON financing_feereceipt
    FOR EACH ROW EXECUTE FUNCTION vault_forbid_change();
"""


class Migration(migrations.Migration):
    dependencies = [("financing", "0001_initial"), ("ledger", "0002_triggers")]

    operations = [run_sql_for("postgresql", SQL)]
