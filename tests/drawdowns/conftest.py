from decimal import Decimal

import pytest

from tests.factories import MaterialFactory, days  # noqa: F401 - days: used by the tests
from vault.drawdowns import services
from vault.drawdowns.models import (
    DrawdownRequest,
    DrawdownTransition,
    IdempotencyKey,
    ParticipationAgreement,
    ReplenishmentObligation,
    Reservation,
)
from vault.inventory.models import Lot, Movement, Position, value_at_cost
from vault.ledger.models import JournalEntry
from vault.ledger.selectors import account_balance


@pytest.fixture
def other_material(db):
    return MaterialFactory(code="GA", name="Gallium")


@pytest.fixture
def make_request():
    """make_request(user, quantity="100", submit=True, **overrides) -> DrawdownRequest."""

    def make(user, quantity="100", *, submit=True, material=None, **kwargs):
        kwargs.setdefault("needed_by", days(10))
        kwargs.setdefault("replenish_by", days(60))
        if material is None:
            material = (
                ParticipationAgreement.objects.filter(organization=user.organization, active=True).first().material
            )
        return services.drawdown_create(
            by=user, material=material, quantity=Decimal(str(quantity)), submit=submit, **kwargs
        )

    return make


@pytest.fixture
def stocked(lot):
    """The 1,000 kg lot of the root conftest (NDPR-OX at DEPOT-A, 50 USD/kg)."""
    return lot


class Counts:
    """Row counts of everything a drawdown can write; equal when nothing was written."""

    def __init__(self):
        self.values = {
            "requests": DrawdownRequest.objects.count(),
            "transitions": DrawdownTransition.objects.count(),
            "reservations": Reservation.objects.count(),
            "obligations": ReplenishmentObligation.objects.count(),
            "agreements": ParticipationAgreement.objects.count(),
            "keys": IdempotencyKey.objects.count(),
            "movements": Movement.objects.count(),
            "entries": JournalEntry.objects.count(),
            "lots": sorted(Lot.objects.values_list("pk", "on_hand", "reserved")),
            "statuses": sorted(DrawdownRequest.objects.values_list("pk", "status", "approved_quantity")),
        }

    def __eq__(self, other):
        return self.values == other.values

    def __repr__(self):
        return repr(self.values)


@pytest.fixture
def nothing_written():
    """with nothing_written(): ... asserts that the block wrote no row."""
    from contextlib import contextmanager

    @contextmanager
    def check():
        before = Counts()
        yield
        assert Counts() == before

    return check


def assert_stock_consistent():
    """Positions equal the sum of their lots, lots the sum of their movements, reservations
    held equal the lots' reserved, and the inventory account equals the stock at cost."""
    for position in Position.objects.all():
        lots = Lot.objects.filter(material_id=position.material_id, site_id=position.site_id)
        assert position.on_hand == sum((lot.on_hand for lot in lots), Decimal("0"))
        assert position.reserved == sum((lot.reserved for lot in lots), Decimal("0"))
    for lot in Lot.objects.all():
        assert lot.on_hand == sum((m.quantity for m in lot.movements.all()), Decimal("0"))
        held = Reservation.objects.filter(lot=lot, state=Reservation.State.HELD)
        assert lot.reserved == sum((r.quantity for r in held), Decimal("0"))
        assert 0 <= lot.reserved <= lot.on_hand
    at_cost = sum((value_at_cost(lot.on_hand, lot.unit_cost) for lot in Lot.objects.all()), Decimal("0"))
    assert account_balance(code="1300") == at_cost
