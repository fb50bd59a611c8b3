from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, TypedDict

from django.db.models import DecimalField, Prefetch, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce

from vault.ledger.models import Account, Books, JournalEntry, JournalLine, ManualEntry, PeriodClose, ReopenRequest

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations


class Balances(TypedDict):
    debits: Decimal
    credits: Decimal


ZERO = Value(Decimal("0"), output_field=DecimalField(max_digits=20, decimal_places=2))
CENT = Decimal("0.01")


def accounts_with_balances(*, as_of: date | None = None) -> QuerySet[WithAnnotations[Account, Balances]]:
    """Accounts annotated with total `debits`, `credits` up to and including `as_of`, in one query."""
    line_filter = Q(lines__entry__date__lte=as_of) if as_of else Q()
    return Account.objects.annotate(
        debits=Coalesce(Sum("lines__debit", filter=line_filter), ZERO),
        credits=Coalesce(Sum("lines__credit", filter=line_filter), ZERO),
    ).order_by("code")


def account_balance(*, code: str, as_of: date | None = None) -> Decimal:
    """Balance of one account on its normal side (debit-normal for assets and expenses)."""
    account = Account.objects.get(code=code)
    lines = JournalLine.objects.filter(account=account)
    if as_of:
        lines = lines.filter(entry__date__lte=as_of)
    totals = lines.aggregate(d=Coalesce(Sum("debit"), ZERO), c=Coalesce(Sum("credit"), ZERO))
    balance = totals["d"] - totals["c"] if account.debit_normal else totals["c"] - totals["d"]
    return balance.quantize(CENT)


def normal_balance(account: Account, debits: Decimal, credits: Decimal) -> Decimal:
    """The balance on the account's normal side: debits - credits for assets and expenses."""
    return (debits - credits if account.debit_normal else credits - debits).quantize(CENT)


@dataclass(frozen=True)
class TrialBalanceRow:
    code: str
    name: str
    type: str
    debit: Decimal
    credit: Decimal


@dataclass(frozen=True)
class TrialBalance:
    as_of: date | None
    rows: list[TrialBalanceRow]
    total_debit: Decimal
    total_credit: Decimal

    @property
    def balanced(self) -> bool:
        return self.total_debit == self.total_credit


def trial_balance(*, as_of: date | None = None) -> TrialBalance:
    """Each account's net balance in the debit or the credit column, as of a date (one query).
    Because every entry balances, total debits equal total credits."""
    rows = []
    for account in accounts_with_balances(as_of=as_of):
        net = (account.debits - account.credits).quantize(CENT)
        if net == 0 and not account.debits:
            continue
        rows.append(
            TrialBalanceRow(
                code=account.code,
                name=account.name,
                type=account.type,
                debit=net if net > 0 else Decimal("0.00"),
                credit=-net if net < 0 else Decimal("0.00"),
            )
        )
    return TrialBalance(
        as_of=as_of,
        rows=rows,
        total_debit=sum((row.debit for row in rows), Decimal("0.00")),
        total_credit=sum((row.credit for row in rows), Decimal("0.00")),
    )


def entry_list() -> QuerySet[JournalEntry]:
    """Journal entries newest first, with their lines and accounts prefetched: a page costs
    two queries whatever its size (filters: vault.ledger.filters.JournalEntryFilter)."""
    return (
        JournalEntry.objects.select_related("posted_by")
        .order_by("-date", "-id")
        .prefetch_related(Prefetch("lines", queryset=JournalLine.objects.select_related("account").order_by("id")))
    )


def closed_through() -> date | None:
    """The books' lock date: nothing posts on or before it (None: no period is closed)."""
    return Books.objects.filter(pk=1).values_list("closed_through", flat=True).first()


def period_close_list() -> QuerySet[PeriodClose]:
    """Every close and reopening, newest first, with who asked and who approved."""
    return PeriodClose.objects.select_related("requested_by", "approved_by").order_by("-id")


def reopen_request_list() -> QuerySet[ReopenRequest]:
    return ReopenRequest.objects.select_related("requested_by", "decided_by").order_by("-id")


def manual_entry_list() -> QuerySet[ManualEntry]:
    return ManualEntry.objects.select_related("proposed_by", "decided_by", "entry").order_by("-id")
