from datetime import date
from decimal import Decimal

from django.db.models import DecimalField, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce

from vault.ledger.models import Account, JournalLine

ZERO = Value(Decimal("0"), output_field=DecimalField(max_digits=20, decimal_places=2))


def accounts_with_balances(*, as_of: date | None = None) -> QuerySet[Account]:
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
    return totals["d"] - totals["c"] if account.debit_normal else totals["c"] - totals["d"]
