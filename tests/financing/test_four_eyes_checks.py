"""vault_check re-derives the headroom approved tranches reserve (raw SQL corrupts it, triggers off)."""

from datetime import date

from tests.financing.factories import approved_tranche, disbursed_tranche
from tests.integrity.test_vault_check import _bypass_triggers, _failing, _sql
from vault.integrity.invariants import run_checks


def test_sound_reservations_pass(finance, loan):
    disbursed_tranche(facility=loan, amount="1000.00", on=date(2026, 3, 2), by=finance)
    approved_tranche(facility=loan, amount="5000.00", by=finance)
    assert "approved_tranches_reserve_headroom" not in _failing(run_checks())


def test_an_approved_tranche_edited_by_hand_is_named(finance, loan):
    tranche = approved_tranche(facility=loan, amount="5000.00", by=finance)
    _bypass_triggers("financing_tranche")
    _sql("UPDATE financing_tranche SET amount = 7000 WHERE id = %s", [tranche.pk])
    results = run_checks()
    assert "approved_tranches_reserve_headroom" in _failing(results)
    [line] = results["approved_tranches_reserve_headroom"]
    assert line.startswith("facility LOAN-T: commitment 10000000000") and "approved tranches add up to 7000" in line
