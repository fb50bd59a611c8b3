"""Writes to the holdings. Every function here runs in one transaction and guarantees:

- a lot's `on_hand` never goes below its `reserved`, nor below zero (row lock on the lot,
  then a database CHECK constraint as the last word);
- each change of quantity leaves exactly one Movement row (two for a transfer) whose
  `balance_after` is the lot's new on-hand;
- the Position of the lot's material and site changes by the same amounts in the same
  transaction, so positions always equal the sum of their lots and of their movements;
- each change of value at cost posts a balanced journal entry, so the inventory account
  equals the cost of the stock on hand.

Locks are taken in one order everywhere (lots by id, then the receiving site, then
positions by material and site) so concurrent writers queue instead of deadlocking. Lots and
sites are locked FOR NO KEY UPDATE: the lock serialises writers of the same row but does not
block the FOR KEY SHARE lock that PostgreSQL takes on a row whenever another row references it
(a new movement, lot or position pointing at the site), which a plain FOR UPDATE would, and
which deadlocked concurrent transfers in opposite directions. A caller that composes several
of these services in one transaction over lots at different sites calls `stock_lock` first.

The writes by topic: `catalogue` (materials and sites), `lots` (creation, status, details),
`movements` (receipts, adjustments, write-offs, releases, and `movement_create`, the entry point
for every kind), `transfers`, `reversals` and `reservations`; `_common` holds the locks and the
balance, movement and journal writes they share. Pure input checks live in
`vault.inventory.parsing`, reads in `vault.inventory.selectors`.

`from vault.inventory import services; services.lot_create(...)` is the way in for the other
apps, the admin, the API and the tests.
"""

from vault.inventory.services._common import stock_lock
from vault.inventory.services.catalogue import (
    MATERIAL_EDITABLE,
    SITE_EDITABLE,
    code_unchanged,
    material_create,
    material_delete,
    material_update,
    site_create,
    site_delete,
    site_update,
)
from vault.inventory.services.lots import LOT_DETAILS, lot_create, lot_details_update, lot_set_status
from vault.inventory.services.movements import (
    CREATABLE_KINDS,
    movement_adjust,
    movement_create,
    movement_receipt,
    movement_release,
    movement_write_off,
)
from vault.inventory.services.reservations import lot_reserve, lot_unreserve
from vault.inventory.services.reversals import movement_reverse
from vault.inventory.services.transfers import movement_transfer

__all__ = [
    "CREATABLE_KINDS",
    "LOT_DETAILS",
    "MATERIAL_EDITABLE",
    "SITE_EDITABLE",
    "code_unchanged",
    "lot_create",
    "lot_details_update",
    "lot_reserve",
    "lot_set_status",
    "lot_unreserve",
    "material_create",
    "material_delete",
    "material_update",
    "movement_adjust",
    "movement_create",
    "movement_receipt",
    "movement_release",
    "movement_reverse",
    "movement_transfer",
    "movement_write_off",
    "site_create",
    "site_delete",
    "site_update",
    "stock_lock",
]
