"""Random sequences of every holdings operation (Hypothesis state machine). After each step:
no negative balance, lots and positions equal the sum of their movements, reservations within
on-hand, and the inventory account equals the stock at cost. Refused operations (short stock,
capacity, reversing twice...) must raise a typed error and leave everything as it was."""

from datetime import date
from decimal import ROUND_DOWN, Decimal

import pytest
from django.db import transaction
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test

from tests.factories import MaterialFactory, SiteFactory, UserFactory
from tests.inventory.conftest import Snapshot
from tests.inventory.invariants import assert_holdings_consistent
from vault.core.errors import DomainError
from vault.inventory import services
from vault.inventory.models import Lot, Movement

# Odd unit costs and gram quantities so that rounding to the cent matters.
quantities = st.decimals(min_value=Decimal("0.001"), max_value=Decimal("400"), places=3)
signed_quantities = st.decimals(min_value=Decimal("-400"), max_value=Decimal("400"), places=3).filter(bool)
# An outflow is either any quantity (often more than there is: refused) or a share of what the
# lot can give, so that most succeed.
outflows = st.one_of(quantities, st.integers(1, 100))
unit_costs = st.sampled_from([Decimal("0.005"), Decimal("0.3333"), Decimal("72.5"), Decimal("1150.1234")])


class Holdings(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self._atomic = transaction.atomic()
        self._atomic.__enter__()
        self.user = UserFactory(username="machine", role="manager")
        self.materials = [MaterialFactory(code="MAT-A"), MaterialFactory(code="MAT-B")]
        self.sites = [
            SiteFactory(code="S-1", capacity_kg=None),
            SiteFactory(code="S-2", capacity_kg=Decimal("900")),
            SiteFactory(code="S-3", capacity_kg=None),
        ]
        self.count = 0

    def teardown(self):
        transaction.set_rollback(True)
        self._atomic.__exit__(None, None, None)

    def _lot(self, n: int) -> Lot | None:
        lots = list(Lot.objects.order_by("pk"))
        return lots[n % len(lots)] if lots else None

    @staticmethod
    def _amount(drawn, basis: Decimal) -> Decimal:
        if isinstance(drawn, Decimal):
            return drawn
        return max((basis * drawn / 100).quantize(Decimal("0.001"), rounding=ROUND_DOWN), Decimal("0.001"))

    def _attempt(self, operation):
        """Run one service call; a refusal must be typed and must write nothing."""
        before = Snapshot()
        try:
            operation()
        except DomainError:
            assert Snapshot() == before

    @initialize(quantity=quantities, cost=unit_costs)
    def first_lot(self, quantity, cost):
        self.create_lot(0, 0, quantity, cost)

    @rule(m=st.integers(0, 1), s=st.integers(0, 2), quantity=quantities, cost=unit_costs)
    def create_lot(self, m, s, quantity, cost):
        self.count += 1
        self._attempt(
            lambda: services.lot_create(
                by=self.user,
                lot_number=f"L{self.count}",
                material=self.materials[m],
                site=self.sites[s],
                mining_country="AU",
                processing_country="MY",
                received_date=date(2026, 1, 1),
                unit_cost=cost,
                initial_quantity=quantity,
            )
        )

    @rule(n=st.integers(0, 50), quantity=quantities)
    def receipt(self, n, quantity):
        lot = self._lot(n)
        self._attempt(lambda: services.movement_receipt(lot=lot, quantity=quantity, by=self.user))

    @rule(n=st.integers(0, 50), drawn=outflows, s=st.integers(0, 2))
    def transfer(self, n, drawn, s):
        lot = self._lot(n)
        quantity = self._amount(drawn, lot.free)
        self._attempt(
            lambda: services.movement_transfer(lot=lot, quantity=quantity, to_site=self.sites[s], by=self.user)
        )

    @rule(n=st.integers(0, 50), quantity=signed_quantities)
    def adjust(self, n, quantity):
        lot = self._lot(n)
        self._attempt(lambda: services.movement_adjust(lot=lot, quantity=quantity, by=self.user, reason="count"))

    @rule(n=st.integers(0, 50), drawn=outflows)
    def write_off(self, n, drawn):
        lot = self._lot(n)
        quantity = self._amount(drawn, lot.free)
        self._attempt(lambda: services.movement_write_off(lot=lot, quantity=quantity, by=self.user, reason="lost"))

    @rule(n=st.integers(0, 50), drawn=outflows, from_reserved=st.booleans())
    def release(self, n, drawn, from_reserved):
        lot = self._lot(n)
        quantity = self._amount(drawn, lot.reserved if from_reserved else lot.free)
        self._attempt(
            lambda: services.movement_release(lot=lot, quantity=quantity, by=self.user, from_reserved=from_reserved)
        )

    @rule(n=st.integers(0, 50), drawn=outflows)
    def reserve(self, n, drawn):
        lot = self._lot(n)
        quantity = self._amount(drawn, lot.free)
        self._attempt(lambda: services.lot_reserve(lot=lot, quantity=quantity))

    @rule(n=st.integers(0, 50), drawn=outflows)
    def unreserve(self, n, drawn):
        lot = self._lot(n)
        quantity = self._amount(drawn, lot.reserved)
        self._attempt(lambda: services.lot_unreserve(lot=lot, quantity=quantity))

    @rule(n=st.integers(0, 50), status=st.sampled_from(Lot.Status.values))
    def set_status(self, n, status):
        lot = self._lot(n)
        self._attempt(lambda: services.lot_set_status(lot=lot, status=status, by=self.user))

    @rule(k=st.integers(0, 200), any_movement=st.booleans())
    def reverse(self, k, any_movement):
        movements = Movement.objects.order_by("pk")
        if not any_movement:  # mostly pick one that may still be reversed
            movements = movements.exclude(kind=Movement.Kind.REVERSAL).filter(reversed_by__isnull=True)
        movements = list(movements) or list(Movement.objects.order_by("pk"))
        movement = movements[k % len(movements)]
        self._attempt(lambda: services.movement_reverse(movement=movement, by=self.user, reason="undo"))

    @invariant()
    def consistent(self):
        assert_holdings_consistent()


@pytest.mark.django_db
def test_random_sequences_keep_every_invariant():
    run_state_machine_as_test(
        Holdings,
        settings=settings(
            max_examples=30,
            stateful_step_count=15,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
            database=None,
        ),
    )
