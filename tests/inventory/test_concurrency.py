"""Real concurrent writers on PostgreSQL: threads with their own connections, committing.

Each scenario fires its threads at a barrier so that they really overlap, then checks every
holdings invariant on what was committed."""

import threading
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from django.db import close_old_connections, connection
from rest_framework.test import APIClient

from tests.factories import LotFactory, MaterialFactory, SiteFactory, UserFactory
from tests.inventory.invariants import assert_holdings_consistent
from vault.core.errors import DomainError, InsufficientStock, InvalidInput
from vault.inventory.models import Lot, Movement, Position
from vault.inventory.services import (
    lot_create,
    lot_reserve,
    movement_receipt,
    movement_release,
    movement_reverse,
    movement_transfer,
)
from vault.ledger.chart import SYSTEM_ACCOUNTS
from vault.ledger.models import Account

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _chart():
    # A transactional test starts from a flushed database: the chart of accounts that migration
    # 0003 loaded is gone after the first one.
    for code, name, type_ in SYSTEM_ACCOUNTS:
        Account.objects.get_or_create(code=code, defaults={"name": name, "type": type_})


def run_concurrently(calls, workers=None):
    """Run each zero-argument callable in its own thread, all started together; return for
    each either its result or the exception it raised."""
    start = threading.Event()

    def run(call):
        try:
            start.wait(timeout=10)
            return call()
        except Exception as exc:  # noqa: BLE001 - reported to the test
            return exc
        finally:
            close_old_connections()
            connection.close()

    with ThreadPoolExecutor(max_workers=workers or len(calls)) as pool:
        futures = [pool.submit(run, call) for call in calls]
        start.set()
        return [future.result(timeout=60) for future in futures]


def _fresh(lot):
    return Lot.objects.get(pk=lot.pk)


def test_twenty_releases_of_a_hundred_from_a_thousand(material, site, manager):
    lot = LotFactory(material=material, site=site, initial_quantity="1000", by=manager)
    results = run_concurrently(
        [lambda: movement_release(lot=_fresh(lot), quantity=Decimal("100"), by=manager) for _ in range(20)]
    )
    done = [r for r in results if isinstance(r, Movement)]
    refused = [r for r in results if isinstance(r, Exception)]
    assert len(done) == 10
    assert len(refused) == 10 and all(isinstance(r, InsufficientStock) for r in refused), refused
    lot.refresh_from_db()
    assert lot.on_hand == 0
    assert sorted(m.balance_after for m in done) == [Decimal(100 * n) for n in range(10)]
    assert Position.objects.get(material=material, site=site).on_hand == 0
    assert_holdings_consistent()


def test_releases_never_touch_concurrent_reservations(material, site, manager):
    lot = LotFactory(material=material, site=site, initial_quantity="1000", by=manager)
    calls = [lambda: lot_reserve(lot=_fresh(lot), quantity=Decimal("100")) for _ in range(8)]
    calls += [lambda: movement_release(lot=_fresh(lot), quantity=Decimal("100"), by=manager) for _ in range(8)]
    results = run_concurrently(calls)
    ok = [r for r in results if not isinstance(r, Exception)]
    assert all(isinstance(r, InsufficientStock) for r in results if isinstance(r, Exception))
    assert len(ok) == 10  # exactly the 1,000 kg, shared between reservations and releases
    lot.refresh_from_db()
    assert lot.on_hand >= lot.reserved >= 0
    assert lot.on_hand - lot.reserved == 0
    assert_holdings_consistent()


def test_opposite_transfers_between_two_sites_do_not_deadlock(material, manager):
    east, west = SiteFactory(code="EAST"), SiteFactory(code="WEST")
    east_lots = [LotFactory(material=material, site=east, initial_quantity="500", by=manager) for _ in range(3)]
    west_lots = [LotFactory(material=material, site=west, initial_quantity="500", by=manager) for _ in range(3)]
    calls = []
    for _ in range(4):
        for lot in east_lots:
            calls.append(
                lambda lot=lot: movement_transfer(lot=_fresh(lot), quantity=Decimal("10"), to_site=west, by=manager)
            )
        for lot in west_lots:
            calls.append(
                lambda lot=lot: movement_transfer(lot=_fresh(lot), quantity=Decimal("10"), to_site=east, by=manager)
            )
    results = run_concurrently(calls, workers=12)
    errors = [r for r in results if isinstance(r, Exception)]
    assert errors == []
    assert Movement.objects.filter(kind="transfer").count() == 2 * len(calls)
    totals = {p.site.code: p.on_hand for p in Position.objects.select_related("site")}
    assert totals == {"EAST": Decimal("1500"), "WEST": Decimal("1500")}
    assert_holdings_consistent()


def test_first_transfers_of_one_lot_to_several_sites(material, site, manager):
    lot = LotFactory(material=material, site=site, initial_quantity="1000", by=manager)
    targets = [SiteFactory(code=f"T-{n}") for n in range(6)]
    calls = [
        lambda target=target: movement_transfer(lot=_fresh(lot), quantity=Decimal("50"), to_site=target, by=manager)
        for target in targets
        for _ in range(2)
    ]
    results = run_concurrently(calls)
    assert [r for r in results if isinstance(r, Exception)] == []
    assert Lot.objects.filter(parent=lot).count() == 6
    lot.refresh_from_db()
    assert lot.on_hand == Decimal("400")
    assert_holdings_consistent()


def test_concurrent_receipts_never_exceed_capacity(manager):
    depot = SiteFactory(code="SMALL", capacity_kg=Decimal("1000"))
    materials = [MaterialFactory(code=f"M-{n}") for n in range(3)]
    lots = [LotFactory(material=m, site=depot, initial_quantity="100", by=manager) for m in materials]
    calls = [
        lambda lot=lot: movement_receipt(lot=_fresh(lot), quantity=Decimal("75"), by=manager)
        for lot in lots
        for _ in range(6)
    ]
    results = run_concurrently(calls)
    done = [r for r in results if isinstance(r, Movement)]
    refused = [r for r in results if isinstance(r, Exception)]
    assert all(isinstance(r, InvalidInput) and r.field == "quantity" for r in refused), refused
    assert len(done) == 9  # 300 + 9 x 75 = 975 <= 1,000 < 1,050
    held = sum(p.on_hand for p in Position.objects.filter(site=depot))
    assert held == Decimal("975")
    assert_holdings_consistent()


def test_concurrent_lot_creation_at_one_site(material, site, manager):
    def create(n):
        return lot_create(
            by=manager,
            lot_number=f"NEW-{n}",
            material=material,
            site=site,
            mining_country="AU",
            processing_country="MY",
            received_date="2026-01-01",
            unit_cost=Decimal("10"),
            initial_quantity=Decimal("5"),
        )

    results = run_concurrently([lambda n=n: create(n) for n in range(10)])
    assert [r for r in results if isinstance(r, Exception)] == []
    assert Position.objects.get(material=material, site=site).on_hand == Decimal("50")
    assert_holdings_consistent()


def test_a_movement_reversed_concurrently_is_reversed_once(material, site, manager):
    lot = LotFactory(material=material, site=site, initial_quantity="1000", by=manager)
    release = movement_release(lot=lot, quantity=Decimal("100"), by=manager)
    results = run_concurrently(
        [lambda: movement_reverse(movement=Movement.objects.get(pk=release.pk), by=manager, reason="x")] * 6
    )
    assert len([r for r in results if isinstance(r, Movement)]) == 1
    assert all(isinstance(r, DomainError) and r.status_code == 409 for r in results if isinstance(r, Exception))
    lot.refresh_from_db()
    assert lot.on_hand == Decimal("1000")
    assert_holdings_consistent()


def test_concurrent_http_releases(material, site):
    manager = UserFactory(username="api-manager", role="manager")
    lot = LotFactory(material=material, site=site, initial_quantity="1000", by=manager)

    def post():
        client = APIClient()
        client.force_authenticate(manager)
        response = client.post(
            "/api/v1/movements/", {"kind": "release", "lot": lot.pk, "quantity": "150.000"}, format="json"
        )
        return response.status_code, response.json()

    results = run_concurrently([post] * 12)
    codes = sorted(code for code, _ in results)
    assert codes == [201] * 6 + [409] * 6, results
    assert all(body["code"] == "insufficient_stock" for code, body in results if code == 409)
    lot.refresh_from_db()
    assert lot.on_hand == Decimal("100")
    assert_holdings_consistent()


def test_composite_transactions_over_two_sites_lock_up_front(material, manager):
    """Like a drawdown fulfilling reservations on lots at two depots, in either order."""
    from django.db import transaction

    from vault.inventory.services import stock_lock

    east, west = SiteFactory(code="EAST"), SiteFactory(code="WEST")
    pairs = [
        (
            LotFactory(material=material, site=east, initial_quantity="100", by=manager),
            LotFactory(material=material, site=west, initial_quantity="100", by=manager),
        )
        for _ in range(4)
    ]

    def fulfil(first, second):
        with transaction.atomic():
            locked = stock_lock(lots=[first, second])
            movement_release(lot=locked[first.pk], quantity=Decimal("1"), by=manager)
            movement_release(lot=locked[second.pk], quantity=Decimal("1"), by=manager)

    calls = []
    for n in range(16):
        for a, b in pairs:
            calls.append(lambda a=a, b=b, n=n: fulfil(a, b) if n % 2 else fulfil(b, a))
    results = run_concurrently(calls, workers=8)
    assert [r for r in results if isinstance(r, Exception)] == []
    assert Movement.objects.filter(kind="release").count() == 2 * len(calls)
    assert_holdings_consistent()
