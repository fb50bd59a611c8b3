"""The financing invariants `vault_check` verifies (registered with vault.integrity)."""

from vault.integrity.invariants import Check, register

_DAYS_SPANNED = {"postgresql": "MAX(a.date) - MIN(a.date)", "sqlite": "julianday(MAX(a.date)) - julianday(MIN(a.date))"}


def _accrual_days_sql(vendor: str) -> str:
    span = _DAYS_SPANNED[vendor]
    return f"""
        SELECT f.code, MIN(a.date), MAX(a.date), COUNT(*), COUNT(DISTINCT a.date)
          FROM financing_interestaccrual a JOIN financing_facility f ON f.id = a.facility_id
         GROUP BY f.code
        HAVING COUNT(*) <> COUNT(DISTINCT a.date) OR COUNT(*) <> CAST({span} AS INTEGER) + 1
        """


register(
    Check(
        "tranches_within_commitment",
        "each facility's disbursed tranches add up to its disbursed total, within its commitment",
        """
        SELECT f.code, f.commitment, f.disbursed, COALESCE(t.total, 0)
          FROM financing_facility f
          LEFT JOIN (SELECT facility_id, SUM(amount) AS total FROM financing_tranche
                      WHERE status = 'disbursed' GROUP BY facility_id) t ON t.facility_id = f.id
         WHERE COALESCE(t.total, 0) > f.commitment OR COALESCE(t.total, 0) <> f.disbursed
        """,
        lambda r: f"facility {r[0]}: commitment {r[1]}, disbursed total {r[2]}, disbursed tranches add up to {r[3]}",
        ("financing",),
    )
)
register(
    Check(
        "approved_tranches_reserve_headroom",
        "each facility's approved total equals its approved tranches, and disbursed plus approved stay within "
        "its commitment",
        """
        SELECT f.code, f.commitment, f.disbursed, f.approved, COALESCE(t.total, 0)
          FROM financing_facility f
          LEFT JOIN (SELECT facility_id, SUM(amount) AS total FROM financing_tranche
                      WHERE status = 'approved' GROUP BY facility_id) t ON t.facility_id = f.id
         WHERE COALESCE(t.total, 0) <> f.approved OR f.disbursed + COALESCE(t.total, 0) > f.commitment
        """,
        lambda r: (
            f"facility {r[0]}: commitment {r[1]}, disbursed {r[2]}, approved total {r[3]}, "
            f"approved tranches add up to {r[4]}"
        ),
        ("financing",),
    )
)
register(
    Check(
        "one_accrual_per_facility_day",
        "each loan has exactly one interest accrual per day, with no day missing in between",
        _accrual_days_sql,
        lambda r: f"facility {r[0]}: {r[3]} accruals on {r[4]} distinct days from {r[1]} to {r[2]}",
        ("financing",),
    )
)

# Each facility's ledger accounts re-derived from the financing rows (credit-normal balances):
# its principal account holds disbursed tranches less repayments, a loan's interest payable
# account holds its accruals less the interest paid. A line posted to either by anything else (a
# manual entry, a reversal, an edit with the triggers off) shows here.
_ACCOUNT_BALANCES = """
    SELECT l.account_id, SUM(l.credit) - SUM(l.debit) AS balance FROM ledger_journalline l GROUP BY l.account_id
"""


def _sums(table: str, where: str = "") -> str:
    return f"(SELECT facility_id, SUM(amount) AS total FROM {table} {where} GROUP BY facility_id)"


register(
    Check(
        "principal_account_equals_tranches_less_repayments",
        "each facility's principal account (and its repaid total) equals its disbursed tranches less its repayments",
        f"""
        SELECT f.code, COALESCE(b.balance, 0), COALESCE(t.total, 0) - COALESCE(r.total, 0), f.repaid,
               COALESCE(r.total, 0)
          FROM financing_facility f
          LEFT JOIN ({_ACCOUNT_BALANCES}) b ON b.account_id = f.account_id
          LEFT JOIN {_sums("financing_tranche", "WHERE status = 'disbursed'")} t ON t.facility_id = f.id
          LEFT JOIN {_sums("financing_repayment")} r ON r.facility_id = f.id
         WHERE COALESCE(b.balance, 0) <> COALESCE(t.total, 0) - COALESCE(r.total, 0)
            OR f.repaid <> COALESCE(r.total, 0)
        """,
        lambda r: (
            f"facility {r[0]}: principal account holds {r[1]}, tranches less repayments are {r[2]}; "
            f"repaid total {r[3]}, repayments add up to {r[4]}"
        ),
        ("financing", "ledger"),
    )
)
register(
    Check(
        "interest_payable_equals_accruals_less_payments",
        "each loan's interest payable account equals its accrued interest less the interest paid",
        f"""
        SELECT f.code, COALESCE(b.balance, 0), COALESCE(a.total, 0) - COALESCE(p.total, 0)
          FROM financing_facility f
          LEFT JOIN ({_ACCOUNT_BALANCES}) b ON b.account_id = f.interest_account_id
          LEFT JOIN {_sums("financing_interestaccrual")} a ON a.facility_id = f.id
          LEFT JOIN {_sums("financing_interestpayment")} p ON p.facility_id = f.id
         WHERE f.interest_account_id IS NOT NULL
           AND COALESCE(b.balance, 0) <> COALESCE(a.total, 0) - COALESCE(p.total, 0)
        """,
        lambda r: f"loan {r[0]}: interest payable account holds {r[1]}, accruals less interest paid are {r[2]}",
        ("financing", "ledger"),
    )
)
register(
    Check(
        "one_fee_receipt_per_source",
        "a fee is recorded once per source (an agreement's upfront fee, an API client's reference)",
        """
        SELECT source_type, source_id, COUNT(*)
          FROM financing_feereceipt WHERE source_id IS NOT NULL
         GROUP BY source_type, source_id HAVING COUNT(*) > 1
        """,
        lambda r: f"fee source {r[0]}:{r[1]} has {r[2]} fee receipts",
        ("financing",),
    )
)

# Each accrual re-derived from its inputs: the principal outstanding at the end of its day (the
# facility's disbursed tranches less its repayments up to that day), the rate in force that day
# (the latest rate effective on or before it; none: 0), and the amount: principal x rate / 100 /
# 360 (or 365) plus the previous day's carry, rounded half-up to the cent (ROUND is half away from
# zero: the same for amounts that are never negative), with the remainder as this day's carry.
_ACCRUAL_INPUTS = """
    SELECT f.code, a.date, a.principal, a.rate_pct, a.amount, a.carry, a.day_count,
           (SELECT COALESCE(SUM(t.amount), 0) FROM financing_tranche t
             WHERE t.facility_id = a.facility_id AND t.status = 'disbursed' AND t.actual_date <= a.date)
         - (SELECT COALESCE(SUM(r.amount), 0) FROM financing_repayment r
             WHERE r.facility_id = a.facility_id AND r.date <= a.date) AS outstanding,
           COALESCE((SELECT ir.rate_pct FROM financing_interestrate ir
                      WHERE ir.facility_id = a.facility_id AND ir.effective_from <= a.date
                      ORDER BY ir.effective_from DESC, ir.id DESC LIMIT 1), 0) AS rate_in_force,
           COALESCE((SELECT p.carry FROM financing_interestaccrual p
                      WHERE p.facility_id = a.facility_id AND p.date < a.date
                      ORDER BY p.date DESC LIMIT 1), 0) AS carried
      FROM financing_interestaccrual a JOIN financing_facility f ON f.id = a.facility_id
"""
_EXACT = "(outstanding * rate_in_force / 100 / (CASE day_count WHEN 'ACT/360' THEN 360 ELSE 365 END) + carried)"
_DAILY = f"(CASE WHEN ROUND({_EXACT}, 2) < 0 THEN 0 ELSE ROUND({_EXACT}, 2) END)"

register(
    Check(
        "accrual_equals_principal_times_rate",
        "each interest accrual's principal, rate, amount and carry follow from the tranches, repayments, rates "
        "and the previous day's carry",
        f"""
        SELECT code, date, principal, outstanding, rate_pct, rate_in_force, amount, {_DAILY}, carry
          FROM ({_ACCRUAL_INPUTS}) x
         WHERE principal <> outstanding OR rate_pct <> rate_in_force OR amount <> {_DAILY}
            OR ABS(amount + carry - {_EXACT}) > 0.000001
        """,
        lambda r: (
            f"loan {r[0]} on {r[1]}: accrued {r[6]} (carry {r[8]}) on principal {r[2]} at {r[4]}%, "
            f"but the facility owed {r[3]} at {r[5]}%, which gives {r[7]}"
        ),
        ("financing",),
    )
)
