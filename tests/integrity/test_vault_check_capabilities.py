"""vault_check's financing and drawdown rules fire on data corrupted with raw SQL."""

import re
from datetime import date
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from tests.drawdowns.conftest import make_request  # noqa: F401 - a fixture
from tests.financing.factories import disbursed_tranche, make_facility
from tests.integrity.test_vault_check import _bypass_triggers, _failing, _sql
from vault.drawdowns import services as drawdowns
from vault.financing.services import interest_accrue
from vault.integrity.invariants import run_checks


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
        "INSERT INTO financing_interestaccrual (facility_id, date, principal, rate_pct, day_count, amount, created_at) "
        "SELECT facility_id, date, principal, rate_pct, day_count, amount, created_at "
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
