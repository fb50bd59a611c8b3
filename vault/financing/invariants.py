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
        "one_accrual_per_facility_day",
        "each loan has exactly one interest accrual per day, with no day missing in between",
        _accrual_days_sql,
        lambda r: f"facility {r[0]}: {r[3]} accruals on {r[4]} distinct days from {r[1]} to {r[2]}",
        ("financing",),
    )
)
