from datetime import date
from decimal import Decimal

import pytest

from vault.core.errors import Conflict, InvalidInput
from vault.ledger.chart import SYSTEM_ACCOUNTS
from vault.ledger.models import Account, JournalEntry, JournalLine
from vault.ledger.services import Line, account_open, chart_ensure, entry_post, entry_reverse

D = Decimal
ON = date(2026, 3, 2)


def _post(lines, **kwargs):
    return entry_post(date=ON, memo="test", lines=lines, source_type="manual", **kwargs)


@pytest.mark.parametrize(
    ("lines", "field"),
    [
        ([Line("1000", debit=D("10.00")), Line("4000", credit=D("9.99"))], "lines"),
        ([Line("1000", debit=D("-10.00")), Line("4000", credit=D("-10.00"))], "amount"),
        ([Line("1000", debit=D("10.001")), Line("4000", credit=D("10.001"))], "amount"),
        ([Line("1000", debit=D("10.00")), Line("9999", credit=D("10.00"))], "account"),
        ([Line("1000"), Line("4000")], "lines"),
    ],
)
def test_entry_post_refuses_bad_entries_and_writes_nothing(db, lines, field):
    with pytest.raises(InvalidInput) as exc:
        _post(lines)
    assert exc.value.field == field
    assert JournalEntry.objects.count() == JournalLine.objects.count() == 0


def test_entry_post_drops_zero_lines_and_keeps_order(db, finance):
    entry = _post(
        [Line("1000", debit=D("10.00")), Line("4000", credit=D("0")), Line("4000", credit=D("10.00"))], by=finance
    )
    assert [(line.account.code, line.debit, line.credit) for line in entry.lines.order_by("id")] == [
        ("1000", D("10.00"), D("0.00")),
        ("4000", D("0.00"), D("10.00")),
    ]
    assert entry.number == f"JE-{entry.pk:08d}"
    assert entry.source_reference == "manual"


def test_reversal_mirrors_points_at_the_original_and_happens_once(db, finance):
    entry = _post([Line("1000", debit=D("10.00")), Line("4000", credit=D("10.00"))], by=finance)
    reversal = entry_reverse(entry=entry, date=date(2026, 3, 3), by=finance)

    assert reversal.reverses == entry
    assert entry.reversed_by == reversal
    assert [(line.account.code, line.debit, line.credit) for line in reversal.lines.order_by("id")] == [
        ("1000", D("0.00"), D("10.00")),
        ("4000", D("10.00"), D("0.00")),
    ]
    with pytest.raises(Conflict, match="already reversed"):
        entry_reverse(entry=entry, date=date(2026, 3, 3))
    with pytest.raises(Conflict, match="itself a reversal"):
        entry_reverse(entry=reversal, date=date(2026, 3, 3))
    assert JournalEntry.objects.count() == 2


def test_account_open_is_idempotent_and_refuses_a_type_clash(db):
    first = account_open(code="2100-X", name="Loan payable, X", type="liability", subledger="X")
    again = account_open(code="2100-X", name="other name", type="liability")
    assert first == again
    assert again.subledger == "X"
    with pytest.raises(Conflict):
        account_open(code="2100-X", name="x", type="asset")
    with pytest.raises(InvalidInput):
        account_open(code="9-X", name="x", type="nonsense")


def test_chart_ensure_recreates_the_system_accounts(db):
    Account.objects.filter(code="1000").delete()
    chart_ensure()
    chart_ensure()
    assert set(Account.objects.values_list("code", flat=True)) >= {code for code, _, _ in SYSTEM_ACCOUNTS}
    assert Account.objects.filter(code="1000").count() == 1
