"""The drawdown invariants `vault_check` verifies (registered with vault.integrity)."""

from vault.drawdowns.domain import ALLOWED
from vault.drawdowns.models import DrawdownRequest
from vault.integrity.invariants import Check, register

Status = DrawdownRequest.Status


def _history_sql(vendor: str) -> str:
    pairs = [("", Status.DRAFT.value)] + [(a, b) for a, targets in ALLOWED.items() for b in sorted(targets)]
    allowed = " OR ".join(f"(from_status = '{a}' AND to_status = '{b}')" for a, b in pairs)
    return f"""
        WITH t AS (
            SELECT request_id, id, from_status, to_status,
                   LAG(to_status) OVER (PARTITION BY request_id ORDER BY id) AS previous,
                   ROW_NUMBER() OVER (PARTITION BY request_id ORDER BY id DESC) AS from_last
              FROM drawdowns_drawdowntransition
        )
        SELECT r.id, r.status, 'its last transition leads to ' || COALESCE(t.to_status, 'nothing')
          FROM drawdowns_drawdownrequest r LEFT JOIN t ON t.request_id = r.id AND t.from_last = 1
         WHERE t.to_status IS NULL OR t.to_status <> r.status
        UNION ALL
        SELECT t.request_id, r.status,
               'transition ' || t.id || ' goes from ' || COALESCE(NULLIF(t.from_status, ''), 'nothing')
               || ' to ' || t.to_status || ' after ' || COALESCE(t.previous, 'nothing')
          FROM t JOIN drawdowns_drawdownrequest r ON r.id = t.request_id
         WHERE t.from_status <> COALESCE(t.previous, '') OR NOT ({allowed})
        """


register(
    Check(
        "request_state_explained_by_history",
        "each drawdown request's status is where its transitions, each an allowed one, lead",
        _history_sql,
        lambda r: f"drawdown request DR-{r[0]} ({r[1]}): {r[2]}",
        ("drawdowns",),
    )
)


def _stored_sum_sql(stored: str, rows: str, *, label: str = "id", rows_where: str = "") -> str:
    """Rows whose `stored` quantity ("table.column") is not the sum of the quantities of the
    `rows` ("table.key", the key naming the stored row's id) that pass `rows_where`, as
    (the row's `label`, the stored quantity, the sum)."""
    table, column = stored.split(".")
    rows_table, key = rows.split(".")
    where = f"WHERE {rows_where} " if rows_where else ""
    return f"""
        SELECT t.{label}, t.{column}, COALESCE(s.total, 0)
          FROM {table} t
          LEFT JOIN (SELECT {key}, SUM(quantity) AS total FROM {rows_table} {where}GROUP BY {key}) s ON s.{key} = t.id
         WHERE t.{column} <> COALESCE(s.total, 0)
        """


register(
    Check(
        "lot_reserved_equals_held_reservations",
        "each lot's reserved stock is the sum of the drawdown reservations it holds (else it could never be released)",
        _stored_sum_sql(
            "inventory_lot.reserved", "drawdowns_reservation.lot_id", label="lot_number", rows_where="state = 'held'"
        ),
        lambda r: f"lot {r[0]}: {r[1]} kg reserved but its held reservations add up to {r[2]}",
        ("drawdowns", "inventory"),
    )
)
register(
    Check(
        "obligation_replenished_equals_replenishments",
        "each replenishment obligation's replenished quantity is the sum of its replenishments",
        _stored_sum_sql(
            "drawdowns_replenishmentobligation.replenished_quantity", "drawdowns_replenishment.obligation_id"
        ),
        lambda r: f"obligation {r[0]}: {r[1]} kg replenished but its replenishments add up to {r[2]}",
        ("drawdowns",),
    )
)

# The receivables account (1200) re-derived from the participants' open balances: each
# obligation's receivable (drawn and premium quantities at the locked price, each to the cent,
# as the fulfilment posted it) less the value of its replenishments at that price (as each
# replenishment lot's receipt credited it).
register(
    Check(
        "receivables_equal_open_participant_balances",
        "the receivables account equals the participants' receivables less their replenishments at the locked price",
        """
        SELECT owed.total, COALESCE(book.balance, 0) FROM
          (SELECT COALESCE(SUM(ROUND(o.drawn_quantity * o.unit_price, 2)
                             + ROUND(o.premium_quantity * o.unit_price, 2)), 0)
                - COALESCE((SELECT SUM(ROUND(r.quantity * o2.unit_price, 2))
                              FROM drawdowns_replenishment r
                              JOIN drawdowns_replenishmentobligation o2 ON o2.id = r.obligation_id), 0) AS total
             FROM drawdowns_replenishmentobligation o) owed,
          (SELECT SUM(l.debit) - SUM(l.credit) AS balance
             FROM ledger_journalline l JOIN ledger_account a ON a.id = l.account_id WHERE a.code = '1200') book
         WHERE owed.total <> COALESCE(book.balance, 0)
        """,
        lambda r: f"the receivables account holds {r[1]} but the participants' open balances add up to {r[0]}",
        ("drawdowns", "ledger"),
    )
)
