from decimal import Decimal

from tests.financing.helpers import row_counts
from vault.accounts import demo as accounts_demo
from vault.accounts.models import User
from vault.financing import demo
from vault.financing.models import Facility, InterestAccrual, Tranche
from vault.inventory import demo as inventory_demo
from vault.ledger.selectors import account_balance, trial_balance


def test_demo_financing_is_complete_and_idempotent(db):
    accounts_demo.seed()
    manager = User.objects.get(username="manager")
    inventory_demo.seed(by=manager)

    demo.seed(by=manager)
    first = row_counts()
    demo.seed(by=manager)
    assert row_counts() == first

    exim = Facility.objects.get(code="EXIM-2026")
    assert (exim.kind, exim.commitment, exim.day_count) == ("loan", Decimal("10000000000.00"), "ACT/360")
    assert exim.maturity_date.year - exim.available_from.year == 15
    assert exim.rates.get().rate_pct == demo.EXIM_RATE_PCT
    assert exim.disbursed > 0
    assert exim.tranches.filter(status="planned").exists()
    private = Facility.objects.filter(kind="private_capital")
    assert private.count() == 3
    assert sum(f.commitment for f in private) == Decimal("1670000000.00")
    assert all(f.disbursed > 0 for f in private)

    # Enough cash came in to pay for the demo lots, and the books balance.
    assert account_balance(code="1000") > 0
    assert account_balance(code="1300") > 0
    assert trial_balance().balanced
    assert InterestAccrual.objects.filter(facility=exim).exists()
    assert account_balance(code="5000") > account_balance(code="2000-EXIM-2026") > 0  # two payments made
    assert exim.tranches.first().created_by.username == "finance"
    # Four eyes: planned (and large disbursements asked) by finance, approved (and confirmed) by finance2.
    disbursed = Tranche.objects.filter(status="disbursed")
    assert disbursed.count() == 5
    assert {(t.created_by.username, t.approved_by.username) for t in disbursed} == {("finance", "finance2")}
    large = disbursed.filter(amount__gt=Decimal("100000000.00"))
    assert {(t.disbursement_requested_by.username, t.disbursed_by.username) for t in large} == {("finance", "finance2")}
    assert {t.disbursed_by.username for t in disbursed.exclude(pk__in=large)} == {"finance"}
    assert first["financing.PricePoint"] >= 13 * 10
