"""Writes for drawdowns, by topic: requests (create, submit, approve, reject, cancel, fulfil),
reservations (stock held for a request, reserved, released and issued under the request's
lock), replenishment (the receivable and obligation of a draw, receipts in kind), agreements
(entitlements and their upfront fee) and disruptions. Each topic module states its
guarantees; the pure rules (the allowed transitions, a request's terms, the figures of a
fulfilment, a disruption's dates) live in `vault.drawdowns.domain`, reads in
`vault.drawdowns.selectors`.

Lock order everywhere: request, then agreement or obligation, then lots by id. Errors are
typed (vault.core.errors) and name the field; nothing is written on error.

`from vault.drawdowns import services; services.drawdown_approve(...)` is the way in for the
other modules, the admin, the API and the tests."""

from vault.drawdowns.domain import ALLOWED
from vault.drawdowns.services.agreements import agreement_create, agreement_fee_receive
from vault.drawdowns.services.disruptions import disruption_declare
from vault.drawdowns.services.replenishment import obligation_replenish
from vault.drawdowns.services.requests import (
    drawdown_approve,
    drawdown_cancel,
    drawdown_create,
    drawdown_fulfil,
    drawdown_reject,
    drawdown_submit,
)

__all__ = [
    "ALLOWED",
    "agreement_create",
    "agreement_fee_receive",
    "disruption_declare",
    "drawdown_approve",
    "drawdown_cancel",
    "drawdown_create",
    "drawdown_fulfil",
    "drawdown_reject",
    "drawdown_submit",
    "obligation_replenish",
]
