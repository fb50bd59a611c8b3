"""The books are not closed through a day whose interest a loan has not accrued yet."""

from datetime import date

import pytest

from tests.financing.factories import disbursed_tranche, make_facility
from vault.core.errors import Conflict
from vault.financing.services import interest_accrue
from vault.ledger import selectors as ledger_selectors
from vault.ledger.services import period_close

pytestmark = pytest.mark.django_db


def test_a_close_waits_for_the_interest_of_every_loan(finance):
    loan = make_facility(by=finance, code="LOAN-C")
    disbursed_tranche(facility=loan, amount="1000000.00", on=date(2026, 3, 2), by=finance)
    period_close(through=date(2026, 3, 1), by=finance)  # before the first disbursement: nothing to accrue
    with pytest.raises(Conflict) as behind:
        period_close(through=date(2026, 3, 31), by=finance)
    assert (behind.value.code, behind.value.field, behind.value.extra["facilities"]) == (
        "interest_not_accrued",
        "through",
        "LOAN-C",
    )
    assert ledger_selectors.closed_through() == date(2026, 3, 1)
    interest_accrue(facility=loan, through=date(2026, 3, 31))
    period_close(through=date(2026, 3, 31), by=finance)
    assert ledger_selectors.closed_through() == date(2026, 3, 31)
