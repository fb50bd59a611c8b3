from dataclasses import dataclass
from datetime import date as date_type
from decimal import Decimal

from django.db import transaction

from vault.core.errors import Conflict, InvalidInput
from vault.ledger.chart import SYSTEM_ACCOUNTS, AccountType
from vault.ledger.models import Account, DownloadRecord, JournalEntry, JournalLine

CENT = Decimal("0.01")


@dataclass(frozen=True)
class Line:
    account: str  # account code
    debit: Decimal = Decimal("0")
    credit: Decimal = Decimal("0")


def account_open(*, code: str, name: str, type: str, subledger: str = "") -> Account:
    """Open an account (or return the existing one with this code). `subledger` groups the
    accounts of one sub-ledger (a facility's loan and interest accounts) for reports and exports.
    Raises Conflict when the code exists with another type."""
    if type not in AccountType.values:
        raise InvalidInput(f"Unknown account type {type!r}.", field="type", code="account_type_unknown")
    account, _ = Account.objects.get_or_create(code=code, defaults={"name": name, "type": type, "subledger": subledger})
    if account.type != type:
        raise Conflict(
            f"Account {code} exists as {account.type}, not {type}.", field="code", code="account_type_mismatch"
        )
    return account


def chart_ensure() -> None:
    """Create the system accounts of the chart that are missing (what migration 0003 did).
    Safe to run any number of times."""
    for code, name, type_ in SYSTEM_ACCOUNTS:
        Account.objects.get_or_create(code=code, defaults={"name": name, "type": type_})


@transaction.atomic
def entry_post(
    *,
    date: date_type,
    memo: str,
    lines: list[Line],
    source_type: str,
    source_id: int | None = None,
    by=None,
    reverses: JournalEntry | None = None,
) -> JournalEntry:
    """Post a balanced entry. Zero lines are dropped and lines on the same account and side are
    kept as given. Raises InvalidInput when amounts have more than 2 decimals, are negative,
    or debits and credits differ; the database refuses an unbalanced entry on its own too."""
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
    accounts = {a.code: a for a in Account.objects.filter(code__in={line.account for line in kept})}
    missing = {line.account for line in kept} - accounts.keys()
    if missing:
        raise InvalidInput(
            f"Unknown account(s): {', '.join(sorted(missing))}.", field="account", code="account_unknown"
        )
    entry = JournalEntry.objects.create(
        date=date, memo=memo[:300], source_type=source_type, source_id=source_id, posted_by=by, reverses=reverses
    )
    JournalLine.objects.bulk_create(
        JournalLine(entry=entry, account=accounts[line.account], debit=line.debit, credit=line.credit) for line in kept
    )
    return entry


@transaction.atomic
def entry_reverse(*, entry: JournalEntry, date: date_type, memo: str = "", by=None) -> JournalEntry:
    """Post the mirror image of `entry`, pointing at it. An entry is reversed at most once
    (a unique constraint on `reverses`), and a reversal is never reversed again."""
    if entry.reverses_id is not None:
        raise Conflict(f"{entry.number} is itself a reversal.", field="entry", code="reversal_not_reversible")
    if JournalEntry.objects.filter(reverses=entry).exists():
        raise Conflict(f"{entry.number} is already reversed.", field="entry", code="already_reversed")
    lines = [
        Line(account=line.account.code, debit=line.credit, credit=line.debit)
        for line in entry.lines.select_related("account")
    ]
    return entry_post(
        date=date,
        memo=memo or f"Reversal of {entry.number}: {entry.memo}",
        lines=lines,
        source_type=entry.source_type,
        source_id=entry.source_id,
        by=by,
        reverses=entry,
    )


__all__ = ["AccountType", "Line", "account_open", "chart_ensure", "entry_post", "entry_reverse"]


def download_record(
    *, by, what: str, query: dict, format: str, via: str, row_count: int | None = None
) -> DownloadRecord:
    """Record one download of the ledger or of a statement: who (`by`), what, with which filter
    (`query`, JSON), in which format, through the API or the admin, and how many rows when known.
    Records are never changed nor deleted (database triggers)."""
    if what not in DownloadRecord.What.values:
        raise InvalidInput(f"Unknown download {what!r}.", field="what", code="download_unknown")
    if format not in DownloadRecord.Format.values:
        raise InvalidInput(f"Unknown download format {format!r}.", field="format", code="download_format_unknown")
    return DownloadRecord.objects.create(user=by, what=what, query=query, format=format, via=via, row_count=row_count)
