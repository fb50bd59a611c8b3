import pytest

from tests.financing.factories import make_facility, make_private_capital, second_finance_user


@pytest.fixture
def loan(finance):
    """A $10B ACT/360 loan at 4.25%, available 2026-01-01 to 2030-12-31."""
    return make_facility(by=finance, code="LOAN-T")


@pytest.fixture
def capital(finance):
    """A $500M private capital facility."""
    return make_private_capital(by=finance, code="PC-T", commitment="500000000.00")


@pytest.fixture
def checker(finance):
    """A second finance user: approves what `finance` planned, confirms what it asked (four eyes)."""
    return second_finance_user(finance)
