"""Writes of the ledger, by topic: entries (accounts, posting, reversal), periods (close and
two-user reopening), manual (manual entries under four eyes) and downloads (who took the ledger).

`from vault.ledger import services; services.entry_post(...)` is the way in for the other apps,
the admin, the API and the tests."""

from vault.ledger.chart import AccountType
from vault.ledger.services.downloads import download_record
from vault.ledger.services.entries import (
    Line,
    account_open,
    chart_ensure,
    date_open_check,
    entry_post,
    entry_reverse,
    reversal_date,
)
from vault.ledger.services.manual import manual_entry_post, manual_entry_propose, manual_entry_reject
from vault.ledger.services.periods import (
    period_close,
    period_reopen_approve,
    period_reopen_reject,
    period_reopen_request,
)

__all__ = [
    "AccountType",
    "Line",
    "account_open",
    "chart_ensure",
    "date_open_check",
    "download_record",
    "entry_post",
    "entry_reverse",
    "manual_entry_post",
    "manual_entry_propose",
    "manual_entry_reject",
    "period_close",
    "period_reopen_approve",
    "period_reopen_reject",
    "period_reopen_request",
    "reversal_date",
]
