"""Journal entries: accounts, posting and reversal. Every posting goes through `entry_post`,
which refuses a business date in a closed period (409 `period_closed`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date as date_type
from datetime import timedelta
from decimal import Decimal

from django.db import connection, transaction

from vault.accounts.models import User
from vault.core.errors import Conflict, InvalidInput
from vault.ledger import selectors
from vault.ledger.chart import SYSTEM_ACCOUNTS, AccountType, is_control_code
from vault.ledger.models import Account, Books, JournalEntry, JournalLine

CENT = Decimal("0.01")


@dataclass(frozen=True)
class Line:
    account: str  # account code
    debit: Decimal = Decimal("0")
    credit: Decimal = Decimal("0")


def account_open(*, code: str, name: str, type: str, subledger: str = "") -> Account:
    """Open an account (or return the existing one with this code); a control account by the
    chart's rule (`chart.is_control_code`) is marked so. `subledger` groups the accounts of one
    sub-ledger (a facility's loan and interest accounts) for reports and exports.
    Raises Conflict when the code exists with another type."""
    if type not in AccountType.values:
        raise InvalidInput(f"Unknown account type {type!r}.", field="type", code="account_type_unknown")
    account, _ = Account.objects.get_or_create(
        code=code, defaults={"name": name, "type": type, "subledger": subledger, "is_control": is_control_code(code)}
    )
    if account.type != type:
        raise Conflict(
            f"Account {code} exists as {account.type}, not {type}.", field="code", code="account_type_mismatch"
        )
    return account


def chart_ensure() -> None:
    """Create the system accounts of the chart that are missing (what migration 0003 did), and
    the books' row (open) when it is missing: a posting always finds a row to read FOR SHARE, so
    even the first close waits for it. Safe to run any number of times."""
    Books.objects.bulk_create([Books(pk=1)], ignore_conflicts=True)
    for code, name, type_ in SYSTEM_ACCOUNTS:
        Account.objects.get_or_create(
            code=code, defaults={"name": name, "type": type_, "is_control": is_control_code(code)}
        )


def _lines_kept(lines: list[Line]) -> list[Line]:
    """The non-zero lines, once each amount is checked: positive, whole cents, debits = credits."""
    kept = []
    for line in lines:
        for amount in (line.debit, line.credit):
            if amount < 0 or amount != amount.quantize(CENT):
                raise InvalidInput(
                    f"Ledger amount {amount} must be positive with at most 2 decimals.",
                    field="amount",
                    code="ledger_amount_not_cents",
                )
        if line.debit or line.credit:
            kept.append(line)
    total_debit = sum((line.debit for line in kept), Decimal("0"))
    total_credit = sum((line.credit for line in kept), Decimal("0"))
    if total_debit != total_credit:
        raise InvalidInput(
            f"Unbalanced entry: debits {total_debit} <> credits {total_credit}.", field="lines", code="entry_unbalanced"
        )
    if not kept:
        raise InvalidInput("An entry needs at least one non-zero line.", field="lines", code="entry_empty")
    return kept


def _closed_through_shared() -> date_type | None:
    """The lock date, its row read FOR SHARE on PostgreSQL (the trigger's way): a close in flight
    commits first and its date is the one read, so the refusal is this 409, not the trigger's."""
    if connection.vendor != "postgresql":
        return selectors.closed_through()
    with connection.cursor() as cursor:
        cursor.execute("SELECT closed_through FROM ledger_books WHERE id = 1 FOR SHARE")
        row = cursor.fetchone()
    return row[0] if row else None


def date_open_check(day: date_type, *, field: str = "date", lock: bool = False) -> None:
    """Refuse (409 `period_closed`) a business date on or before the books' lock date; `lock`
    (inside a transaction that posts) holds the lock date until the transaction ends."""
    closed = _closed_through_shared() if lock else selectors.closed_through()
    if closed is not None and day <= closed:
        raise Conflict(
            f"The books are closed through {closed}: nothing can be posted on {day}. "
            f"Post it on or after {closed + timedelta(days=1)}.",
            field=field,
            code="period_closed",
            closed_through=closed,
        )


@transaction.atomic
def entry_post(
    *,
    date: date_type,
    memo: str,
    lines: list[Line],
    source_type: str,
    source_id: int | None = None,
    by: User | None = None,
    reverses: JournalEntry | None = None,
) -> JournalEntry:
    """Post a balanced entry. Zero lines are dropped and lines on the same account and side are
    kept as given. Raises InvalidInput when amounts have more than 2 decimals, are negative,
    or debits and credits differ, Conflict `period_closed` when `date` is in a closed period.
    On PostgreSQL the database refuses on its own an unbalanced entry, a date in a closed period,
    a line added to an entry after the transaction that posted it, and a manual entry on a
    control account (migrations 0002 and 0008)."""
    kept = _lines_kept(lines)
    accounts = {a.code: a for a in Account.objects.filter(code__in={line.account for line in kept})}
    missing = {line.account for line in kept} - accounts.keys()
    if missing:
        raise InvalidInput(
            f"Unknown account(s): {', '.join(sorted(missing))}.", field="account", code="account_unknown"
        )
    date_open_check(date, lock=True)
    entry = JournalEntry.objects.create(
        date=date, memo=memo[:300], source_type=source_type, source_id=source_id, posted_by=by, reverses=reverses
    )
    JournalLine.objects.bulk_create(
        JournalLine(entry=entry, account=accounts[line.account], debit=line.debit, credit=line.credit) for line in kept
    )
    return entry


def reversal_date(entry: JournalEntry, day: date_type) -> date_type:
    """The business date a reversal of `entry` asked for on `day` is posted on: `day`, or the
    first open day when `day` is in a closed period. Refuses (400 `reversal_before_original`)
    a day before the original's own date."""
    if day < entry.date:
        raise InvalidInput(
            f"A reversal cannot be dated {day}, before {entry.number} itself ({entry.date}).",
            field="date",
            code="reversal_before_original",
        )
    closed = selectors.closed_through()
    return max(day, closed + timedelta(days=1)) if closed is not None else day


@transaction.atomic
def entry_reverse(*, entry: JournalEntry, date: date_type, memo: str = "", by: User | None = None) -> JournalEntry:
    """Post the mirror image of `entry`, pointing at it, on `date` (moved to the first open day
    when `date` is in a closed period; never before the original). An entry is reversed at most
    once (a unique constraint on `reverses`), and a reversal is never reversed again."""
    if entry.reverses_id is not None:
        raise Conflict(f"{entry.number} is itself a reversal.", field="entry", code="reversal_not_reversible")
    if JournalEntry.objects.filter(reverses=entry).exists():
        raise Conflict(f"{entry.number} is already reversed.", field="entry", code="already_reversed")
    lines = [
        Line(account=line.account.code, debit=line.credit, credit=line.debit)
        for line in entry.lines.select_related("account")
    ]
    return entry_post(
        date=reversal_date(entry, date),
        memo=memo or f"Reversal of {entry.number}: {entry.memo}",
        lines=lines,
        source_type=entry.source_type,
        source_id=entry.source_id,
        by=by,
        reverses=entry,
    )
