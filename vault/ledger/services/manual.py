"""Manual journal entries under four eyes: one finance user proposes, another posts or rejects.
A manual entry never touches a control account (chart.is_control_code): only the process that
owns one posts to it."""

from __future__ import annotations

from datetime import date as date_type
from decimal import Decimal

from django.db import transaction

from vault.accounts.controls import role_require, second_user_require
from vault.accounts.models import User
from vault.accounts.roles import Role
from vault.core.errors import InvalidInput
from vault.ledger.models import Account, JournalEntry, ManualEntry
from vault.ledger.services._common import undecided_lock
from vault.ledger.services.entries import Line, _lines_kept, date_open_check, entry_post

MANUAL = "manual"


def _checked(lines: list[Line]) -> list[Line]:
    """The lines kept (balanced, whole cents) once no account is unknown, inactive or a control
    account (400 `control_account`, naming it)."""
    kept = _lines_kept(lines)
    accounts = {a.code: a for a in Account.objects.filter(code__in={line.account for line in kept})}
    for line in kept:
        account = accounts.get(line.account)
        if account is None or not account.is_active:
            raise InvalidInput(f"Unknown account {line.account}.", field="account", code="account_unknown")
        if account.is_control:
            raise InvalidInput(
                f"{account} is a control account: only the process that owns it posts there, never a manual entry.",
                field="account",
                code="control_account",
                account=account.code,
            )
    return kept


def manual_entry_propose(*, date: date_type, memo: str, lines: list[Line], by: User) -> ManualEntry:
    """Propose a manual entry; nothing is posted until another finance user posts it. Refused as
    `entry_post` would refuse it, and on a control account (400 `control_account`)."""
    role_require(by, Role.FINANCE, field="lines")
    kept = _checked(lines)
    date_open_check(date)
    return ManualEntry.objects.create(
        date=date,
        memo=memo[:300],
        lines=[{"account": line.account, "debit": str(line.debit), "credit": str(line.credit)} for line in kept],
        proposed_by=by,
    )


@transaction.atomic
def manual_entry_post(*, proposal: ManualEntry, by: User) -> JournalEntry:
    """Post a proposed manual entry: by a finance user other than the proposer (409
    `second_user_required`; a check constraint holds it too), still balanced, off control
    accounts and in an open period (it is checked again: the chart or the books may have moved)."""
    role_require(by, Role.FINANCE, field="proposal")
    proposal = undecided_lock(proposal, ManualEntry.State.PROPOSED)
    second_user_require(proposal.proposed_by_id, by, what="A manual entry", field="proposal")
    lines = _checked(
        [
            Line(account=raw["account"], debit=Decimal(raw["debit"]), credit=Decimal(raw["credit"]))
            for raw in proposal.lines
        ]
    )
    entry = entry_post(
        date=proposal.date,
        memo=proposal.memo,
        lines=lines,
        source_type=MANUAL,
        source_id=proposal.pk,
        by=by,
    )
    proposal.decide(ManualEntry.State.POSTED, by=by, entry=entry)
    return entry


@transaction.atomic
def manual_entry_reject(*, proposal: ManualEntry, by: User, note: str = "") -> ManualEntry:
    """Reject (or, by the proposer, withdraw) a proposed manual entry; nothing is posted."""
    role_require(by, Role.FINANCE, field="proposal")
    proposal = undecided_lock(proposal, ManualEntry.State.PROPOSED)
    proposal.decide(ManualEntry.State.REJECTED, by=by, decision_note=note[:300])
    return proposal
