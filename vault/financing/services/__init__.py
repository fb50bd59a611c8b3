"""Writes to the financing of the reserve, by topic: facilities (terms, rates, ledger accounts),
tranches (plan, approve, disburse, confirm a large disbursement, cancel), payments (repayments,
interest payments, fees), accrual (daily interest) and prices (market prices and their import). Each topic module states
its guarantees; together:

- the approved and disbursed tranches of a facility never add up to more than its commitment
  (an approval reserves headroom), and repayments
  never exceed what was disbursed: the facility row is locked (SELECT ... FOR UPDATE) before the
  check, its maintained `disbursed`/`repaid` totals move with F() expressions under database CHECK
  constraints, and a deferred PostgreSQL trigger verifies at commit that those totals equal the
  sums of their tranche and repayment rows (so raw SQL cannot over-disburse either);
- every money event posts one balanced journal entry whose source points back at its row;
- nothing dated on or before the last accrued day of a loan is recorded (the accrual would be
  wrong), so interest already accrued never needs rewriting;
- every function runs in one transaction; on bad input a typed DomainError names the field, and
  nothing is written.

Locks are taken facility first, then tranche, everywhere. Pure parsing (amounts, rates, prices,
price CSV rows) lives in `vault.financing.parsing`, reads (interest payable, the last accrued
day, the statement) in `vault.financing.selectors`.

`from vault.financing import services; services.tranche_disburse(...)` is the way in for the
other modules, the admin, the API and the tests."""

from vault.financing.errors import CommitmentExceeded
from vault.financing.services.accrual import daily_interest, interest_accrue
from vault.financing.services.facilities import (
    facility_account_codes,
    facility_create,
    facility_rate_set,
    facility_update,
)
from vault.financing.services.payments import fee_receive, interest_pay, repayment_create
from vault.financing.services.prices import (
    PriceImport,
    price_move_confirm_pct,
    price_point_confirm,
    price_point_create,
    price_point_delete,
    price_point_reject,
    price_point_withdraw,
    price_points_import,
)
from vault.financing.services.tranches import (
    second_approval_threshold,
    tranche_approve,
    tranche_cancel,
    tranche_disburse,
    tranche_disburse_confirm,
    tranche_plan,
)

__all__ = [
    "CommitmentExceeded",
    "PriceImport",
    "daily_interest",
    "facility_account_codes",
    "facility_create",
    "facility_rate_set",
    "facility_update",
    "fee_receive",
    "interest_accrue",
    "interest_pay",
    "price_move_confirm_pct",
    "price_point_confirm",
    "price_point_create",
    "price_point_delete",
    "price_point_reject",
    "price_point_withdraw",
    "price_points_import",
    "repayment_create",
    "second_approval_threshold",
    "tranche_approve",
    "tranche_cancel",
    "tranche_disburse",
    "tranche_disburse_confirm",
    "tranche_plan",
]
