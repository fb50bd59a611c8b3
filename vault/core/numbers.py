"""The precisions of Vault's decimals, one place for models, serializers and forms.

Each constant is the `max_digits`/`decimal_places` pair of one kind of number, typed (`Digits`)
so that `models.DecimalField(**QUANTITY)` and `serializers.DecimalField(**MONEY, ...)` type-check
as the keyword arguments they are."""

from __future__ import annotations

from decimal import Decimal
from typing import TypedDict


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
