"""One check of every holdings invariant, used after each scenario (and after each step of the
stateful test): balances never negative, lots equal the sum of their movements, positions equal
the sum of their lots and of their movements, and the inventory account equals the stock at cost.

Sums are taken in Python: SQLite adds decimals as floats, which would blur a one-cent error."""

from collections import defaultdict
from decimal import Decimal

from vault.inventory.models import Lot, Movement, Position, value_at_cost
from vault.ledger import chart
from vault.ledger.models import JournalLine

ZERO = Decimal("0")


def stock_at_cost() -> Decimal:
    return sum((value_at_cost(lot.on_hand, lot.unit_cost) for lot in Lot.objects.all()), ZERO)


def inventory_account_balance() -> Decimal:
    lines = JournalLine.objects.filter(account__code=chart.INVENTORY).values_list("debit", "credit")
    return sum((debit - credit for debit, credit in lines), ZERO)


def assert_holdings_consistent() -> None:
    lots = list(Lot.objects.all())
    moved = defaultdict(lambda: [ZERO, ZERO])  # lot -> quantity, value
    by_position = defaultdict(lambda: ZERO)
    last_balance = {}
    for lot_id, material_id, site_id, quantity, value, balance in Movement.objects.order_by("-id").values_list(
        "lot_id", "material_id", "site_id", "quantity", "value", "balance_after"
    ):
        moved[lot_id][0] += quantity
        moved[lot_id][1] += value
        by_position[(material_id, site_id)] += quantity
        last_balance.setdefault(lot_id, balance)
        assert balance >= 0
    per_position = defaultdict(lambda: [ZERO, ZERO, ZERO])
    for lot in lots:
        assert lot.on_hand >= 0, f"lot {lot} on hand {lot.on_hand}"
        assert 0 <= lot.reserved <= lot.on_hand, f"lot {lot} reserved {lot.reserved} of {lot.on_hand}"
        quantity, value = moved.get(lot.pk, (ZERO, ZERO))
        assert quantity == lot.on_hand, f"lot {lot}: movements add up to {quantity}, on hand {lot.on_hand}"
        assert value == value_at_cost(lot.on_hand, lot.unit_cost), f"lot {lot}: movement values {value}"
        assert last_balance.get(lot.pk, ZERO) == lot.on_hand, f"lot {lot}: last balance_after"
        totals = per_position[(lot.material_id, lot.site_id)]
        totals[0] += lot.on_hand
        totals[1] += lot.reserved
        if lot.status != Lot.Status.AVAILABLE:
            totals[2] += lot.on_hand
    positions = {(p.material_id, p.site_id): p for p in Position.objects.all()}
    assert set(per_position) <= set(positions), "a lot without a position"
    for key, position in positions.items():
        on_hand, reserved, unavailable = per_position.get(key, (ZERO, ZERO, ZERO))
        assert (position.on_hand, position.reserved, position.unavailable) == (on_hand, reserved, unavailable), (
            f"position {key}: {position.on_hand}/{position.reserved}/{position.unavailable}, "
            f"lots say {on_hand}/{reserved}/{unavailable}"
        )
        assert position.on_hand == by_position.get(key, ZERO), f"position {key} vs movements"
        assert position.available == on_hand - reserved - unavailable >= 0
    # Every journal entry balances (PostgreSQL also enforces it at commit) and the inventory
    # account equals the cost of what is on hand.
    entries = defaultdict(lambda: ZERO)
    for entry_id, debit, credit in JournalLine.objects.values_list("entry_id", "debit", "credit"):
        entries[entry_id] += debit - credit
    assert not [entry for entry, net in entries.items() if net], "an unbalanced journal entry"
    assert inventory_account_balance() == stock_at_cost()


def postings(movement) -> dict[str, Decimal]:
    """The journal lines posted for `movement` (not counting reversals): {account code: signed
    amount}, debit positive and credit negative."""
    lines = JournalLine.objects.filter(
        entry__source_type="movement", entry__source_id=movement.pk, entry__reverses__isnull=True
    ).select_related("account")
    result: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for line in lines:
        result[line.account.code] += line.debit - line.credit
    return dict(result)
