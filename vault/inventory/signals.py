"""Sent after commit whenever a lot's on-hand or reserved quantity changes.

Listeners (the coverage app) enqueue their own work; the inventory app does not know them.
Arguments: `material_id` and `quantity` (the largest absolute change in that transaction)."""

from django.dispatch import Signal

stock_changed = Signal()
