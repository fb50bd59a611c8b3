from decimal import Decimal

from vault.inventory.models import Movement, Position
from vault.ledger.selectors import account_balance


def test_receipt_then_release_keeps_position_and_ledger_in_step(lot, manager):
    from vault.inventory.services import movement_release

    movement_release(lot=lot, quantity=Decimal("250"), by=manager)
    lot.refresh_from_db()
    position = Position.objects.get(material=lot.material, site=lot.site)
    assert lot.on_hand == Decimal("750") == position.on_hand == position.available
    assert sum(m.quantity for m in Movement.objects.filter(lot=lot)) == Decimal("750")
    assert account_balance(code="1300") == Decimal("37500.00")
