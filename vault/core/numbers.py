"""The precisions of Vault's decimals and the one rule that parses them, for models, serializers,
forms, services and CSV imports alike.

Each constant is the `max_digits`/`decimal_places` pair of one kind of number, typed (`Digits`)
so that `models.DecimalField(**QUANTITY)` and `serializers.DecimalField(**MONEY, ...)` type-check
as the keyword arguments they are."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import TypedDict

from vault.core.errors import InvalidInput


class Digits(TypedDict):
    max_digits: int
    decimal_places: int


class BoundedDigits(Digits):
    min_value: Decimal


QUANTITY: Digits = {"max_digits": 18, "decimal_places": 3}  # kg, to the gram, below 10^15 kg
MONEY: Digits = {"max_digits": 20, "decimal_places": 2}  # USD, to the cent
PRICE: Digits = {"max_digits": 14, "decimal_places": 4}  # USD per kg (prices, unit costs)
RATE: Digits = {"max_digits": 9, "decimal_places": 6}  # annual interest rates, in percent
PERCENT: Digits = {"max_digits": 6, "decimal_places": 3}  # premiums and shares in percent
PCT: Digits = {"max_digits": 7, "decimal_places": 2}  # scenario percentages
SHARE: Digits = {"max_digits": 5, "decimal_places": 4}  # fractions of 1 (concentration)
DAYS: Digits = {"max_digits": 9, "decimal_places": 1}  # coverage days

POSITIVE_MONEY: BoundedDigits = {"max_digits": 20, "decimal_places": 2, "min_value": Decimal("0.01")}
NON_NEGATIVE_RATE: BoundedDigits = {"max_digits": 9, "decimal_places": 6, "min_value": Decimal("0")}


# --- parsing: one rule for every number a user types, in a form, a body or a CSV row ------------


def quantum(digits: Digits) -> Decimal:
    """The smallest step of `digits` (0.001 for QUANTITY)."""
    return Decimal(1).scaleb(-digits["decimal_places"])


def limit(digits: Digits) -> Decimal:
    """The first size `digits` cannot hold (10^15 for QUANTITY)."""
    return Decimal(10) ** (digits["max_digits"] - digits["decimal_places"])


def parse_decimal(value: object, *, field: str, digits: Digits, what: str = "Numbers") -> Decimal:
    """`value` (a Decimal, an int or a decimal string, spaces around it ignored) as a finite
    Decimal that `digits` can hold, else InvalidInput naming `field`: `float_not_accepted` (a
    binary float has no exact decimal value), `not_a_number`, `number_too_large`,
    `too_many_decimals`. Never rounds."""
    if isinstance(value, float):
        raise InvalidInput("Give numbers as decimal strings, not floats.", field=field, code="float_not_accepted")
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError, TypeError):
        raise InvalidInput(f"{value!r} is not a number.", field=field, code="not_a_number") from None
    if not number.is_finite():
        raise InvalidInput(f"{value!r} is not a number.", field=field, code="not_a_number")
    if abs(number) >= limit(digits):
        raise InvalidInput(f"{what} must be below {limit(digits):,}.", field=field, code="number_too_large")
    if number != number.quantize(quantum(digits)):
        places = digits["decimal_places"]
        raise InvalidInput(f"{what} have at most {places} decimals.", field=field, code="too_many_decimals")
    return number


def parse_quantity(
    value: object, *, field: str = "quantity", allow_zero: bool = False, allow_negative: bool = False
) -> Decimal:
    """A quantity in kg (QUANTITY: to the gram, below 10^15 kg), by parse_decimal's rules, greater
    than zero unless `allow_zero` (then `quantity_negative` below zero) or `allow_negative` (an
    adjustment: any sign, never zero). Zero where refused: `quantity_not_positive`."""
    quantity = parse_decimal(value, field=field, digits=QUANTITY, what="Quantities (kg)")
    if quantity == 0 and not allow_zero:
        raise InvalidInput("Quantity must be greater than zero.", field=field, code="quantity_not_positive")
    if quantity < 0 and not allow_negative:
        if allow_zero:
            raise InvalidInput("Quantity must not be negative.", field=field, code="quantity_negative")
        raise InvalidInput("Quantity must be greater than zero.", field=field, code="quantity_not_positive")
    return quantity
