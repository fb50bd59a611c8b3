from decimal import Decimal

import pytest

from tests.factories import LotFactory, MaterialFactory, SiteFactory
from vault.inventory.models import Movement
from vault.ledger.models import JournalEntry


@pytest.fixture
def browser(client):
    """browser(user) -> a test client logged in to the admin as `user`."""

    def login(user):
        client.force_login(user)
        return client

    return login


@pytest.fixture
def capped_site(db):
    """A depot that holds at most 1,500 kg."""
    return SiteFactory(code="DEPOT-CAP", capacity_kg=Decimal("1500"))


@pytest.fixture
def make_lot(material, site, manager):
    """make_lot(quantity="100", **overrides) -> a lot received through the service."""

    def make(quantity="100", **kwargs):
        kwargs.setdefault("material", material)
        kwargs.setdefault("site", site)
        kwargs.setdefault("by", manager)
        return LotFactory(initial_quantity=quantity, **kwargs)

    return make


@pytest.fixture
def other_material(db):
    return MaterialFactory(code="DY-OX", name="Dysprosium oxide")


class Snapshot:
    """What a refused request must leave untouched: movements, lots' balances, journal entries."""

    def __init__(self):
        from vault.inventory.models import Lot, Position

        self.movements = Movement.objects.count()
        self.entries = JournalEntry.objects.count()
        self.lots = sorted(Lot.objects.values_list("pk", "on_hand", "reserved", "status"))
        self.positions = sorted(Position.objects.values_list("pk", "on_hand", "reserved", "unavailable"))

    def __eq__(self, other):
        return vars(self) == vars(other)

    def __repr__(self):
        return f"Snapshot({vars(self)})"


@pytest.fixture
def unchanged():
    """with unchanged(): ... asserts that nothing was written inside the block."""
    from contextlib import contextmanager

    @contextmanager
    def check():
        before = Snapshot()
        yield
        assert Snapshot() == before

    return check
