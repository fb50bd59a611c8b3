"""One rule parses every number a user types (vault.core.numbers): the services of inventory,
drawdowns, coverage and financing, and the CSV imports, all refuse the same inputs with the same
codes."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vault.core.errors import InvalidInput
from vault.core.numbers import MONEY, PRICE, QUANTITY, RATE, limit, parse_decimal, parse_quantity, quantum


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("abc", "not_a_number"),
        ("", "not_a_number"),
        (None, "not_a_number"),
        ("NaN", "not_a_number"),
        ("Infinity", "not_a_number"),
        (0.5, "float_not_accepted"),
        ("1e15", "number_too_large"),
        ("-1000000000000000", "number_too_large"),
        ("1.0001", "too_many_decimals"),
        ("0", "quantity_not_positive"),
        ("-1", "quantity_not_positive"),
    ],
)
def test_a_quantity_is_refused_with_the_rule_it_breaks(raw, code):
    with pytest.raises(InvalidInput) as exc:
        parse_quantity(raw, field="quantity_kg")
    assert (exc.value.code, exc.value.field) == (code, "quantity_kg")


def test_the_signs_a_caller_allows():
    assert parse_quantity(" 250.5 ") == Decimal("250.5")
    assert parse_quantity("0", allow_zero=True) == 0
    assert parse_quantity("-3.25", allow_negative=True) == Decimal("-3.25")
    with pytest.raises(InvalidInput) as exc:
        parse_quantity("-1", allow_zero=True)
    assert exc.value.code == "quantity_negative"
    with pytest.raises(InvalidInput) as exc:
        parse_quantity("0", allow_negative=True)  # an adjustment of nothing
    assert exc.value.code == "quantity_not_positive"


def test_the_limits_follow_the_column_precisions():
    assert (quantum(QUANTITY), limit(QUANTITY)) == (Decimal("0.001"), Decimal("1e15"))
    assert (quantum(MONEY), limit(MONEY)) == (Decimal("0.01"), Decimal("1e18"))
    assert (quantum(PRICE), limit(PRICE)) == (Decimal("0.0001"), Decimal("1e10"))
    assert quantum(RATE) == Decimal("0.000001")
    assert parse_decimal("999999999999999.999", field="q", digits=QUANTITY) == Decimal("999999999999999.999")


@given(st.decimals(allow_nan=False, allow_infinity=False, min_value=Decimal("-1e16"), max_value=Decimal("1e16")))
def test_a_value_is_accepted_exactly_when_the_column_holds_it_unrounded(value):
    fits = abs(value) < limit(MONEY) and value == value.quantize(quantum(MONEY))
    try:
        parsed = parse_decimal(str(value), field="amount", digits=MONEY)
    except InvalidInput:
        assert not fits
    else:
        assert fits and parsed == value


@pytest.mark.parametrize(
    "call",
    [
        "vault.inventory.services.movements",
        "vault.inventory.services.reservations",
        "vault.inventory.services.transfers",
        "vault.drawdowns.services.requests",
        "vault.drawdowns.services.replenishment",
        "vault.drawdowns.services.agreements",
        "vault.coverage.services.inbound",
        "vault.coverage.services.scenarios",
        "vault.coverage.parsing",
    ],
)
def test_the_services_use_the_one_rule(call):
    """No app keeps a quantity parser of its own."""
    import importlib
    import inspect

    module = importlib.import_module(call)
    assert module.parse_quantity is parse_quantity
    source = inspect.getsource(module)
    assert "InvalidOperation" not in source, "a Decimal() parse outside vault.core.numbers"
