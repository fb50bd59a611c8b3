"""Assertion helpers for financing tests."""

from vault.financing.models import (
    Facility,
    FeeReceipt,
    InterestAccrual,
    InterestPayment,
    InterestRate,
    PricePoint,
    Repayment,
    Tranche,
)
from vault.ledger.models import Account, JournalEntry, JournalLine

COUNTED = [
    Facility,
    Facility.history.model,
    Tranche,
    Tranche.history.model,
    InterestRate,
    Repayment,
    InterestAccrual,
    InterestPayment,
    FeeReceipt,
    PricePoint,
    Account,
    JournalEntry,
    JournalLine,
]


def row_counts() -> dict[str, int]:
    """Rows per table touched by the financing, to assert that a refused call wrote nothing."""
    return {model._meta.label: model.objects.count() for model in COUNTED}


def entry_lines(entry: JournalEntry) -> list[tuple[str, str, str]]:
    """[(account code, debit, credit)] of an entry, as strings."""
    return [(line.account.code, str(line.debit), str(line.credit)) for line in entry.lines.select_related("account")]
