"""vault_check's financing and drawdown rules fire on data corrupted with raw SQL."""

import re
from datetime import date
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, transaction

from tests.drawdowns.conftest import make_request  # noqa: F401 - a fixture
from tests.financing.factories import disbursed_tranche, make_facility
from tests.integrity.test_vault_check import _bypass_triggers, _failing, _sql
from vault.drawdowns import services as drawdowns
from vault.financing.services import fee_receive, interest_accrue, interest_pay, repayment_create
from vault.integrity.invariants import run_checks
from vault.ledger import chart
from vault.ledger.services import Line, entry_post


@pytest.fixture
def loan(finance):
    """A loan with 1M disbursed on 2 March 2026 and interest accrued through 11 March."""
    facility = make_facility(by=finance, commitment=Decimal("5000000"))
    disbursed_tranche(facility=facility, amount="1000000", on=date(2026, 3, 2), by=finance)
    interest_accrue(facility=facility, through=date(2026, 3, 11))
    return facility


@pytest.fixture
def requests(agreement_a, make_request, maker_a, manager, lot):  # noqa: F811
    """One request in each of draft, submitted and approved."""
    draft = make_request(maker_a, "10", submit=False)
    submitted = make_request(maker_a, "20")
    approved = make_request(maker_a, "30")
    drawdowns.drawdown_approve(request=approved, by=manager)
    return draft, submitted, approved


def test_sound_financing_and_drawdowns_pass(loan, requests):
    assert _failing(run_checks()) == set()


def test_disbursed_tranche_beyond_the_commitment_is_named(loan):
    # The facility's own CHECK keeps its maintained total within the commitment; a tranche
    # edited by hand (triggers off) is what the check must catch.
    _bypass_triggers("financing_tranche")
    _sql("UPDATE financing_tranche SET amount = 6000000 WHERE facility_id = %s", [loan.pk])
    results = run_checks()
    assert _failing(results) >= {"tranches_within_commitment"}
    [line] = results["tranches_within_commitment"]
    assert re.fullmatch(
        r"facility LOAN-T: commitment 5000000(\.00)?, disbursed total 1000000(\.00)?, "
        r"disbursed tranches add up to 6000000(\.00)?",
        line,
    )


def test_facility_total_out_of_step_with_its_tranches_is_named(loan):
    _bypass_triggers("financing_facility")
    _sql("UPDATE financing_facility SET disbursed = disbursed - 1 WHERE id = %s", [loan.pk])
    assert "tranches_within_commitment" in _failing(run_checks())


def test_missing_accrual_day_is_named(loan):
    _bypass_triggers("financing_interestaccrual")
    _sql("DELETE FROM financing_interestaccrual WHERE facility_id = %s AND date = '2026-03-05'", [loan.pk])
    results = run_checks()
    assert "one_accrual_per_facility_day" in _failing(results)
    assert results["one_accrual_per_facility_day"] == [
        "facility LOAN-T: 9 accruals on 9 distinct days from 2026-03-02 to 2026-03-11"
    ]


@pytest.mark.postgres
def test_duplicated_accrual_is_named_even_without_the_constraint(loan):
    _sql("SET CONSTRAINTS ALL IMMEDIATE")
    _sql("ALTER TABLE financing_interestaccrual DROP CONSTRAINT interest_accrual_one_per_day")
    _sql(
        "INSERT INTO financing_interestaccrual "
        "(facility_id, date, principal, rate_pct, day_count, amount, carry, created_at) "
        "SELECT facility_id, date, principal, rate_pct, day_count, amount, carry, created_at "
        "FROM financing_interestaccrual WHERE facility_id = %s AND date = '2026-03-11'",
        [loan.pk],
    )
    assert "one_accrual_per_facility_day" in _failing(run_checks())


def test_status_edited_without_a_transition_is_named(requests):
    _, submitted, _ = requests
    _sql("UPDATE drawdowns_drawdownrequest SET status = 'cancelled' WHERE id = %s", [submitted.pk])
    results = run_checks()
    assert _failing(results) == {"request_state_explained_by_history"}
    assert results["request_state_explained_by_history"] == [
        f"drawdown request DR-{submitted.pk} (cancelled): its last transition leads to submitted"
    ]
    with pytest.raises(CommandError, match="invariant checks failed"):
        call_command("vault_check")


def test_a_transition_the_workflow_forbids_is_named(requests, manager):
    draft, _, _ = requests
    _sql(
        "INSERT INTO drawdowns_drawdowntransition (request_id, from_status, to_status, comment, by_id, at) "
        "VALUES (%s, 'draft', 'rejected', '', %s, CURRENT_TIMESTAMP)",
        [draft.pk, manager.pk],
    )
    _sql("UPDATE drawdowns_drawdownrequest SET status = 'rejected' WHERE id = %s", [draft.pk])
    assert run_checks()["request_state_explained_by_history"] == [
        f"drawdown request DR-{draft.pk} (rejected): transition {draft.transitions.order_by('id').last().pk} "
        "goes from draft to rejected after draft"
    ]


def test_a_request_without_history_is_named(requests):
    draft, _, _ = requests
    _bypass_triggers("drawdowns_drawdowntransition")
    _sql("DELETE FROM drawdowns_drawdowntransition WHERE request_id = %s", [draft.pk])
    assert run_checks()["request_state_explained_by_history"] == [
        f"drawdown request DR-{draft.pk} (draft): its last transition leads to nothing"
    ]


# --- the ledger's control accounts re-derived from the financing rows ------------------------------


@pytest.fixture
def paid_loan(loan, finance):
    """The loan with 100,000 repaid and 1,000 of interest paid on 12 March."""
    repayment_create(facility=loan, amount=Decimal("100000"), date=date(2026, 3, 12), by=finance)
    interest_pay(facility=loan, amount=Decimal("1000"), date=date(2026, 3, 12), by=finance)
    return loan


def test_a_loan_with_repayments_and_interest_paid_passes(paid_loan):
    assert _failing(run_checks()) == set()


def test_a_manual_entry_to_the_loan_payable_account_is_named(paid_loan, finance):
    """The lender's figure: a manual 5M to the EXIM loan payable account made the ledger say more
    than the facility owes, and vault_check passed. The database now refuses a manual line on a
    control account (tests/ledger/test_controls_db.py): with its triggers off, two rules name it."""
    _bypass_triggers("ledger_journalentry")
    _bypass_triggers("ledger_journalline")
    entry_post(
        date=date(2026, 3, 12),
        memo="manual",
        lines=[Line(chart.CASH, debit=Decimal("5000000")), Line(paid_loan.account.code, credit=Decimal("5000000"))],
        source_type="manual",
        by=finance,
    )
    results = run_checks()
    assert {"principal_account_equals_tranches_less_repayments", "control_accounts_posted_by_their_processes"} <= (
        _failing(results)
    )
    assert results["control_accounts_posted_by_their_processes"][0].endswith(
        f"a manual entry posted to control account {paid_loan.account.code}"
    )
    [line] = results["principal_account_equals_tranches_less_repayments"]
    assert re.fullmatch(
        r"facility LOAN-T: principal account holds 5900000(\.00)?, tranches less repayments are 900000(\.00)?; "
        r"repaid total 100000(\.00)?, repayments add up to 100000(\.00)?",
        line,
    )


def test_a_repayment_deleted_behind_the_triggers_is_named(paid_loan):
    _bypass_triggers("financing_repayment")
    _sql("DELETE FROM financing_repayment WHERE facility_id = %s", [paid_loan.pk])
    [line] = run_checks()["principal_account_equals_tranches_less_repayments"]
    assert "repayments add up to 0" in line


def test_truncated_accruals_are_named(paid_loan):
    """The interest payable account still holds the accrued interest the rows no longer explain."""
    _bypass_triggers("financing_interestaccrual")
    _sql("DELETE FROM financing_interestaccrual WHERE facility_id = %s", [paid_loan.pk])
    results = run_checks()
    assert "interest_payable_equals_accruals_less_payments" in _failing(results)
    [line] = results["interest_payable_equals_accruals_less_payments"]
    assert re.fullmatch(
        r"loan LOAN-T: interest payable account holds [\d.]+, accruals less interest paid are -1000(\.00)?", line
    )


def test_an_interest_payment_with_no_ledger_entry_is_named(paid_loan, finance):
    _sql(
        "INSERT INTO financing_interestpayment (facility_id, amount, date, memo, created_by_id, created_at) "
        "VALUES (%s, 5, '2026-03-12', 'raw', %s, CURRENT_TIMESTAMP)",
        [paid_loan.pk, finance.pk],
    )
    assert _failing(run_checks()) == {"interest_payable_equals_accruals_less_payments"}


def test_a_fee_recorded_twice_for_one_source_is_named(org_a, finance):
    for source_id in (41, 42):
        fee_receive(
            organization=org_a,
            amount=Decimal("250"),
            date=date(2026, 3, 2),
            memo="",
            by=finance,
            source_type="fee",
            source_id=source_id,
        )
    assert _failing(run_checks()) == set()
    _bypass_triggers("financing_feereceipt")
    with pytest.raises(IntegrityError), transaction.atomic():  # the database refuses it (a unique index)
        _sql("UPDATE financing_feereceipt SET source_id = 41 WHERE source_id = 42")
    _sql("DROP INDEX fee_one_per_source")  # as an owner could: rolled back with the test
    _sql("UPDATE financing_feereceipt SET source_id = 41 WHERE source_id = 42")
    assert run_checks()["one_fee_receipt_per_source"] == ["fee source fee:41 has 2 fee receipts"]


# --- reservations and replenishments re-derived from their rows -------------------------------------


def test_a_ghost_reservation_is_named(requests, lot):
    """100 kg reserved on the lot and its position with no reservation row: it could never be released."""
    _sql("UPDATE inventory_lot SET reserved = reserved + 100 WHERE id = %s", [lot.pk])
    _sql(
        "UPDATE inventory_position SET reserved = reserved + 100 WHERE material_id = %s AND site_id = %s",
        [lot.material_id, lot.site_id],
    )
    results = run_checks()
    assert _failing(results) == {"lot_reserved_equals_held_reservations"}
    [line] = results["lot_reserved_equals_held_reservations"]
    assert re.fullmatch(
        rf"lot {lot.lot_number}: 130(\.000)? kg reserved but its held reservations add up to 30(\.000)?", line
    )


def test_replenished_quantity_out_of_step_with_the_replenishments_is_named(requests, manager, site):
    _, _, approved = requests
    obligation = drawdowns.drawdown_fulfil(request=approved, by=manager)
    drawdowns.obligation_replenish(
        obligation=obligation,
        quantity=Decimal("10"),
        site=site,
        mining_country="US",
        processing_country="US",
        by=manager,
    )
    assert _failing(run_checks()) == set()
    _sql("UPDATE drawdowns_replenishmentobligation SET replenished_quantity = 25 WHERE id = %s", [obligation.pk])
    [line] = run_checks()["obligation_replenished_equals_replenishments"]
    assert re.fullmatch(
        rf"obligation {obligation.pk}: 25(\.000)? kg replenished but its replenishments add up to 10(\.000)?", line
    )


# --- accruals re-derived from principal x rate x day fraction ---------------------------------------


def test_an_accrual_whose_amount_or_principal_was_changed_is_named(paid_loan):
    """The accrual rows are re-derived from the tranches, repayments and rates of their day: the
    paid loan (a repayment mid-period, so the principal changes) passes, a doctored row does not."""
    interest_accrue(facility=paid_loan, through=date(2026, 3, 31))
    assert run_checks(["accrual_equals_principal_times_rate"])["accrual_equals_principal_times_rate"] == []
    _bypass_triggers("financing_interestaccrual")
    _sql(
        "UPDATE financing_interestaccrual SET amount = amount + 0.01 WHERE facility_id = %s AND date = %s",
        [paid_loan.pk, date(2026, 3, 5)],
    )
    _sql(
        "UPDATE financing_interestaccrual SET principal = principal + 100000 WHERE facility_id = %s AND date = %s",
        [paid_loan.pk, date(2026, 3, 20)],
    )
    found = run_checks(["accrual_equals_principal_times_rate"])["accrual_equals_principal_times_rate"]
    assert [line.split(":")[0] for line in found] == ["loan LOAN-T on 2026-03-05", "loan LOAN-T on 2026-03-20"]
    assert re.search(r"on principal 1000000(\.00)? at .* but the facility owed 900000(\.00)? ", found[1])


def test_a_receivable_posted_by_hand_is_named(agreement_a, make_request, maker_a, manager, lot):  # noqa: F811
    """The receivables account is the participants' open balances: a fulfilled draw owes its
    receivable; a receivable posted by anything else (here a manual entry, triggers off) shows."""
    request = make_request(maker_a, "20")
    drawdowns.drawdown_approve(request=request, by=manager)
    drawdowns.drawdown_fulfil(request=request, by=manager)
    assert (
        run_checks(["receivables_equal_open_participant_balances"])["receivables_equal_open_participant_balances"] == []
    )
    _bypass_triggers("ledger_journalentry")
    _bypass_triggers("ledger_journalline")
    entry_post(
        date=date(2026, 3, 12),
        memo="ghost receivable",
        lines=[Line(chart.RECEIVABLES, debit=Decimal("500")), Line(chart.CASH, credit=Decimal("500"))],
        source_type="manual",
    )
    [line] = run_checks(["receivables_equal_open_participant_balances"])["receivables_equal_open_participant_balances"]
    assert line.startswith("the receivables account holds ")
