"""Fifty managers approving at once, competing for the same stock (PostgreSQL, real threads)."""

import threading
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from django.db import connection
from rest_framework.test import APIClient

from tests.drawdowns.conftest import assert_stock_consistent, days
from tests.factories import LotFactory, MaterialFactory, OrganizationFactory, SiteFactory, UserFactory
from vault.drawdowns import services
from vault.drawdowns.models import DrawdownRequest, DrawdownTransition, Reservation
from vault.inventory.models import Lot, Movement, Position

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

N = 50


def _run(calls):
    barrier = threading.Barrier(len(calls))

    def run(call):
        try:
            barrier.wait(timeout=20)
            return call()
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


@pytest.fixture
def world():
    manager = UserFactory(username="boss", role="manager")
    material = MaterialFactory(code="NDPR-OX")
    sites = [SiteFactory(code=f"DEPOT-{k}") for k in range(3)]
    # 1,000 kg in five lots over three sites: 20 requests of 50 kg fit, 30 do not.
    for k, qty in enumerate(["300", "250", "200", "150", "100"]):
        LotFactory(material=material, site=sites[k % 3], initial_quantity=qty, by=manager)
    requests = []
    for n in range(N):
        org = OrganizationFactory(code=f"MAKER-{n:02d}")
        maker = UserFactory(username=f"maker{n:02d}", role="manufacturer", organization=org)
        services.agreement_create(
            by=manager,
            organization=org,
            material=material,
            quantity=Decimal("100"),
            locked_price=Decimal("80"),
            replenishment_days=90,
        )
        requests.append(
            services.drawdown_create(
                by=maker,
                material=material,
                quantity=Decimal("50"),
                needed_by=days(5),
                replenish_by=days(30),
                submit=True,
            )
        )
    return manager, material, requests


def test_fifty_concurrent_approvals_never_reserve_more_than_available(world):
    manager, material, requests = world
    movements_before = Movement.objects.count()

    def approve(request):
        def call():
            client = APIClient()
            client.force_authenticate(manager)
            response = client.post(f"/api/v1/drawdown-requests/{request.pk}/approve/", {}, format="json")
            return response.status_code, response.json()

        return call

    results = _run([approve(r) for r in requests])
    codes = [code for code, _ in results]
    assert codes.count(200) == 20, results
    assert codes.count(409) == 30, results
    assert all(
        body["code"] == "insufficient_stock" and "quantity" in body["errors"] for code, body in results if code == 409
    )

    approved = DrawdownRequest.objects.filter(status="approved")
    assert approved.count() == 20
    assert DrawdownRequest.objects.filter(status="submitted").count() == 30
    assert DrawdownTransition.objects.filter(to_status="approved").count() == 20
    assert sum(Reservation.objects.values_list("quantity", flat=True), Decimal("0")) == Decimal("1000")
    assert sum(Lot.objects.values_list("reserved", flat=True), Decimal("0")) == Decimal("1000")
    assert sum(Position.objects.values_list("reserved", flat=True), Decimal("0")) == Decimal("1000")
    assert sum(Position.objects.values_list("available", flat=True), Decimal("0")) == 0
    for request in approved:
        assert sum(request.reservations.values_list("quantity", flat=True), Decimal("0")) == Decimal("50")
    assert Movement.objects.count() == movements_before  # reservations move no stock
    assert_stock_consistent()


def test_concurrent_fulfilments_and_cancellations_keep_the_books(world):
    manager, material, requests = world
    chosen = requests[:20]
    for request in chosen:
        services.drawdown_approve(request=request, by=manager)

    def act(n, request):
        def call():
            if n % 2:
                return services.drawdown_fulfil(request=request, by=manager)
            return services.drawdown_cancel(request=request, by=manager)

        return call

    results = _run([act(n, r) for n, r in enumerate(chosen)])
    assert not [r for r in results if isinstance(r, Exception)]
    assert DrawdownRequest.objects.filter(status="fulfilled").count() == 10
    assert DrawdownRequest.objects.filter(status="cancelled").count() == 10
    assert sum(Lot.objects.values_list("on_hand", flat=True), Decimal("0")) == Decimal("500")
    assert sum(Lot.objects.values_list("reserved", flat=True), Decimal("0")) == 0
    assert Movement.objects.filter(kind="release").count() == Reservation.objects.filter(state="issued").count()
    assert_stock_consistent()


def test_concurrent_transitions_of_one_request_pass_once(world):
    manager, material, requests = world
    request = requests[0]

    def approve():
        try:
            return services.drawdown_approve(request=DrawdownRequest.objects.get(pk=request.pk), by=manager)
        except Exception as exc:  # noqa: BLE001
            return exc

    def reject():
        try:
            return services.drawdown_reject(
                request=DrawdownRequest.objects.get(pk=request.pk), by=manager, comment="no"
            )
        except Exception as exc:  # noqa: BLE001
            return exc

    results = _run([approve, reject] * 5)
    assert sum(1 for r in results if isinstance(r, DrawdownRequest)) == 1
    assert DrawdownTransition.objects.filter(request=request, from_status="submitted").count() == 1
    assert_stock_consistent()


def test_concurrent_submissions_never_use_one_entitlement_twice():
    """Ten drafts of 60 kg under one 100 kg entitlement, submitted at once by ten users of the
    organization: the agreement row lock lets exactly one through; the others are refused with
    `exceeds_entitlement` (without the lock, several read the same 100 kg remaining)."""
    manager = UserFactory(username="boss", role="manager")
    material = MaterialFactory(code="NDPR-OX")
    LotFactory(material=material, site=SiteFactory(code="DEPOT-0"), initial_quantity="5000", by=manager)
    org = OrganizationFactory(code="MAKER-A")
    services.agreement_create(
        by=manager,
        organization=org,
        material=material,
        quantity=Decimal("100"),
        locked_price=Decimal("80"),
        replenishment_days=90,
    )
    drafts = []
    for n in range(10):
        maker = UserFactory(username=f"buyer{n}", role="manufacturer", organization=org)
        draft = services.drawdown_create(
            by=maker, material=material, quantity=Decimal("60"), needed_by=days(5), replenish_by=days(30)
        )
        drafts.append((maker, draft))

    def submit(maker, draft):
        def call():
            try:
                return services.drawdown_submit(request=DrawdownRequest.objects.get(pk=draft.pk), by=maker)
            except Exception as exc:  # noqa: BLE001
                return exc

        return call

    results = _run([submit(maker, draft) for maker, draft in drafts])
    submitted = [r for r in results if isinstance(r, DrawdownRequest)]
    refused = [r for r in results if not isinstance(r, DrawdownRequest)]
    assert len(submitted) == 1
    assert {getattr(r, "code", repr(r)) for r in refused} == {"exceeds_entitlement"}
    assert DrawdownRequest.objects.filter(status=DrawdownRequest.Status.SUBMITTED).count() == 1
