"""The valuation as of a past date reads the stock movements by their business date: a lot
received on 1 March is held at the end of March even though it was recorded later."""

from datetime import date
from decimal import Decimal

import pytest

from vault.financing import selectors

pytestmark = pytest.mark.django_db


def test_a_backdated_receipt_is_in_the_valuation_of_its_business_date(lot):
    assert lot.received_date == date(2026, 3, 1)  # recorded today, received then
    before = selectors.holdings_valuation(as_of=date(2026, 2, 28))
    assert before.total_cost == Decimal("0")
    march = selectors.holdings_valuation(as_of=date(2026, 3, 31))
    assert march.total_cost == Decimal("50000.00")
    assert [m.quantity_kg for m in march.materials] == [Decimal("1000.000")]
