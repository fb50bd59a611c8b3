"""Listeners: a large stock change (a big movement, the reservation of an approved drawdown)
asks for a recheck of its material. `stock_changed` is sent after the inventory commit."""

import logging
from decimal import Decimal

from django.conf import settings

log = logging.getLogger(__name__)


def recheck_threshold() -> Decimal:
    return Decimal(str(getattr(settings, "VAULT_COVERAGE_RECHECK_KG", 1000)))


def on_stock_changed(sender, *, material_id: int, quantity: Decimal, **kwargs) -> None:
    if abs(Decimal(quantity)) < recheck_threshold():
        return
    from vault.coverage.services import coverage_recheck_enqueue

    try:
        coverage_recheck_enqueue(material_ids=[material_id])
    except Exception:  # noqa: BLE001 - the stock change is committed; the daily check catches up
        log.exception("coverage: could not enqueue a recheck of material %s", material_id)
