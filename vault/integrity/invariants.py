"""Every invariant Vault promises, checked against the live database.

Each check is one SQL statement returning the offending rows (at most LIMIT of them), so a run
costs a handful of scans however large the tables are. `run_checks()` returns the violations as
human-readable lines; an empty list means the data is sound."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.apps import apps
from django.db import connection
from django.utils.module_loading import autodiscover_modules

from vault.core.dbroles import APPEND_ONLY_SQL
from vault.integrity.chain import seal_breaks

LIMIT = 20


@dataclass(frozen=True)
class Check:
    name: str
    description: str
    # SQL returning the offending rows, a function of the database vendor returning it, or
    # (`rows`) a function returning them where SQL cannot compute the rule (a hash chain).
    sql: str | Callable[[str], str] | None
    message: Callable[[tuple], str]
    needs: tuple[str, ...] = ()  # app labels whose tables the check reads
    rows: Callable[[], list[tuple]] | None = None


CHECKS: list[Check] = [
    Check(
        "lot_equals_movements",
        "each lot's on-hand equals the sum of its movements",
        """
        SELECT l.lot_number, l.on_hand, COALESCE(m.total, 0)
          FROM inventory_lot l
          LEFT JOIN (SELECT lot_id, SUM(quantity) AS total FROM inventory_movement GROUP BY lot_id) m
            ON m.lot_id = l.id
         WHERE l.on_hand <> COALESCE(m.total, 0)
        """,
        lambda r: f"lot {r[0]}: on hand {r[1]} but movements add up to {r[2]}",
        ("inventory",),
    ),
    Check(
        "position_equals_lots",
        "each position equals the sum of its lots (on hand, reserved, unavailable)",
        """
        SELECT mat.code, s.code, p.on_hand, COALESCE(l.on_hand, 0), p.reserved, COALESCE(l.reserved, 0),
               p.unavailable, COALESCE(l.unavailable, 0)
          FROM inventory_position p
          JOIN inventory_material mat ON mat.id = p.material_id
          JOIN inventory_site s ON s.id = p.site_id
          LEFT JOIN (
                SELECT material_id, site_id, SUM(on_hand) AS on_hand, SUM(reserved) AS reserved,
                       SUM(CASE WHEN status <> 'available' THEN on_hand ELSE 0 END) AS unavailable
                  FROM inventory_lot GROUP BY material_id, site_id
          ) l ON l.material_id = p.material_id AND l.site_id = p.site_id
         WHERE p.on_hand <> COALESCE(l.on_hand, 0) OR p.reserved <> COALESCE(l.reserved, 0)
            OR p.unavailable <> COALESCE(l.unavailable, 0)
        """,
        lambda r: (
            f"position {r[0]}@{r[1]}: on hand {r[2]} vs lots {r[3]}, reserved {r[4]} vs {r[5]}, "
            f"unavailable {r[6]} vs {r[7]}"
        ),
        ("inventory",),
    ),
    Check(
        "no_negative_balance",
        "no lot or position is negative, and reservations stay within on-hand",
        """
        SELECT 'lot', lot_number, on_hand, reserved FROM inventory_lot
         WHERE on_hand < 0 OR reserved < 0 OR reserved > on_hand
        UNION ALL
        SELECT 'position', CAST(id AS VARCHAR), on_hand, reserved FROM inventory_position
         WHERE on_hand < 0 OR reserved < 0 OR unavailable < 0 OR on_hand < reserved + unavailable
        """,
        lambda r: f"{r[0]} {r[1]}: on hand {r[2]}, reserved {r[3]}",
        ("inventory",),
    ),
    Check(
        "last_movement_balance",
        "each lot's latest movement records the lot's current on-hand as its balance after",
        """
        SELECT l.lot_number, l.on_hand, m.balance_after
          FROM inventory_lot l
          JOIN inventory_movement m ON m.id = (SELECT MAX(id) FROM inventory_movement WHERE lot_id = l.id)
         WHERE m.balance_after <> l.on_hand
        """,
        lambda r: f"lot {r[0]}: on hand {r[1]} but its last movement says {r[2]}",
        ("inventory",),
    ),
    Check(
        "entry_balanced",
        "every journal entry has two or more lines and its debits equal its credits",
        """
        SELECT e.id, COALESCE(SUM(l.debit), 0), COALESCE(SUM(l.credit), 0), COUNT(l.id)
          FROM ledger_journalentry e LEFT JOIN ledger_journalline l ON l.entry_id = e.id
         GROUP BY e.id
        HAVING COALESCE(SUM(l.debit), 0) <> COALESCE(SUM(l.credit), 0) OR COUNT(l.id) < 2
        """,
        lambda r: f"journal entry JE-{r[0]:08d}: debits {r[1]}, credits {r[2]}, {r[3]} lines",
        ("ledger",),
    ),
    Check(
        "control_accounts_posted_by_their_processes",
        "no manual entry has a line on a control account (loan and interest payable, receivables, inventory)",
        """
        SELECT e.id, a.code FROM ledger_journalline l
          JOIN ledger_journalentry e ON e.id = l.entry_id JOIN ledger_account a ON a.id = l.account_id
         WHERE e.source_type = 'manual' AND a.is_control
        """,
        lambda r: f"journal entry JE-{r[0]:08d}: a manual entry posted to control account {r[1]}",
        ("ledger",),
    ),
    Check(
        "nothing_posted_into_a_closed_period",
        "no journal entry is dated on or before the lock date in force when it was posted",
        """
        SELECT e.id, e.date, e.lock_date FROM (
            SELECT e.id, e.date,
                   (SELECT p.through FROM ledger_periodclose p WHERE p.at <= e.posted_at
                     ORDER BY p.at DESC, p.id DESC LIMIT 1) AS lock_date
              FROM ledger_journalentry e
        ) e
         WHERE e.lock_date IS NOT NULL AND e.date <= e.lock_date
        """,
        lambda r: f"journal entry JE-{r[0]:08d} dated {r[1]} was posted while the books were closed through {r[2]}",
        ("ledger",),
    ),
    Check(
        "inventory_account_equals_stock_at_cost",
        "the inventory account (1300) equals the cost of the stock on hand",
        """
        SELECT stock.value, COALESCE(book.value, 0) FROM
          (SELECT COALESCE(SUM(ROUND(on_hand * unit_cost, 2)), 0) AS value FROM inventory_lot) stock,
          (SELECT SUM(l.debit) - SUM(l.credit) AS value
             FROM ledger_journalline l JOIN ledger_account a ON a.id = l.account_id WHERE a.code = '1300') book
         WHERE stock.value <> COALESCE(book.value, 0)
        """,
        lambda r: f"inventory account holds {r[1]} but the stock on hand costs {r[0]}",
        ("inventory", "ledger"),
    ),
]


# PostgreSQL: the triggers that make tables append-only and refuse TRUNCATE, and every other
# trigger of Vault's, are on. The table owner can switch one off (the application role cannot,
# docs/security.md); an edit made meanwhile is caught by the checks above, and the switch itself here.
_GUARDS_POSTGRES = rf"""
    SELECT c.relname, t.tgname, 'is disabled'
      FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = 'public' AND NOT t.tgisinternal AND t.tgenabled = 'D'
    UNION ALL
    SELECT c.relname, '', 'is append-only but TRUNCATE is not refused'
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = 'public' AND c.relname IN ({APPEND_ONLY_SQL})
       AND NOT EXISTS (SELECT 1 FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid
                        WHERE t.tgrelid = c.oid AND p.proname = 'vault_forbid_truncate')
"""


def _guards_sql(vendor: str) -> str:
    # SQLite has no way to switch a trigger off, nor TRUNCATE: nothing to find.
    return _GUARDS_POSTGRES if vendor == "postgresql" else "SELECT NULL, NULL, NULL WHERE 1 = 0"


CHECKS.append(
    Check(
        "guard_triggers_enabled",
        "every append-only and guard trigger is enabled, and every append-only table refuses TRUNCATE",
        _guards_sql,
        lambda r: f"table {r[0]}: trigger {r[1]} {r[2]}" if r[1] else f"table {r[0]} {r[2]}",
    )
)


CHECKS.append(
    Check(
        "seals_match_rows",
        "every seal of the hash chain over journal entries and stock movements still matches its rows",
        None,
        lambda r: f"seal of {r[0]} rows {r[1]}–{r[2]} {r[3]}",
        ("ledger", "inventory"),
        rows=seal_breaks,
    )
)


def register(check: Check) -> None:
    """Add a check (used by the apps of later capabilities in their own invariants module)."""
    if all(existing.name != check.name for existing in CHECKS):
        CHECKS.append(check)


def _load_app_checks() -> None:
    """Import every installed app's `invariants` module, which registers its checks (the apps
    depend on integrity, never the other way)."""
    autodiscover_modules("invariants")


def run_checks(names: list[str] | None = None) -> dict[str, list[str]]:
    """Run every check (or those named); return {check name: [violation, ...]} for all run."""
    _load_app_checks()
    results: dict[str, list[str]] = {}
    with connection.cursor() as cursor:
        for check in CHECKS:
            if names and check.name not in names:
                continue
            if not all(apps.is_installed(f"vault.{label}") for label in check.needs):
                continue
            if check.rows is not None:
                results[check.name] = [check.message(row) for row in check.rows()[:LIMIT]]
                continue
            sql = check.sql(connection.vendor) if callable(check.sql) else check.sql
            cursor.execute(f"{sql} LIMIT {LIMIT}")
            results[check.name] = [check.message(row) for row in cursor.fetchall()]
    return results
