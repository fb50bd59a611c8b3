"""Facilities: create one with its ledger accounts, change its terms, add rate changes.

Guarantees: a facility's code and its accounts are taken once; the availability period runs
forwards and ends on or before maturity; the commitment never goes below what is disbursed; a
rate change never starts on or before the last accrued day. The facility row is locked before
a change is checked. On bad input a DomainError names the field, and nothing is written."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max

from vault.accounts.models import User
from vault.core.errors import Conflict, InvalidInput
from vault.core.history import history_as
from vault.financing.models import DayCount, Facility, InterestRate, Tranche
from vault.financing.parsing import parse_money, parse_rate
from vault.financing.services._common import check_after_accruals, facility_lock
from vault.ledger import chart
from vault.ledger.chart import AccountType
from vault.ledger.models import Account
from vault.ledger.services import account_open


def facility_account_codes(code: str, kind: str) -> tuple[str, str | None]:
    """The ledger accounts a facility opens: principal (loan payable or investor capital) and,
    for a loan, its interest payable."""
    if kind == Facility.Kind.LOAN:
        return f"{chart.LOAN_PAYABLE_PREFIX}-{code}", f"{chart.INTEREST_PAYABLE}-{code}"
    return f"{chart.INVESTOR_CAPITAL_PREFIX}-{code}", None


def _check_choices(*, kind: str, currency: str, day_count: str) -> None:
    if kind not in Facility.Kind.values:
        raise InvalidInput(
            f"Unknown kind {kind!r}; choose one of {', '.join(Facility.Kind.values)}.",
            field="kind",
            code="facility_kind_unknown",
        )
    if currency not in Facility.Currency.values:
        raise InvalidInput("Facilities are in USD (the ledger's currency).", field="currency", code="currency_not_usd")
    if day_count not in DayCount.values:
        raise InvalidInput(
            f"Day count is one of {', '.join(DayCount.values)}.", field="day_count", code="day_count_unknown"
        )


def _check_availability(available_from: date, available_until: date) -> None:
    if available_until < available_from:
        raise InvalidInput(
            "The availability period ends before it starts.", field="available_until", code="ends_before_start"
        )


def _check_maturity(maturity_date: date, available_until: date) -> None:
    if maturity_date < available_until:
        raise InvalidInput(
            "Maturity comes on or after the end of the availability period.",
            field="maturity_date",
            code="maturity_before_availability_end",
        )


def _initial_rate(kind: str, interest_rate_pct: Decimal | None) -> Decimal | None:
    """A loan's first rate (required); None for private capital (which refuses one)."""
    if kind == Facility.Kind.LOAN and interest_rate_pct is None:
        raise InvalidInput(
            "A loan needs an annual interest rate.", field="interest_rate_pct", code="interest_rate_required"
        )
    if kind == Facility.Kind.PRIVATE_CAPITAL and interest_rate_pct is not None:
        raise InvalidInput(
            "Private capital bears no interest rate.", field="interest_rate_pct", code="private_capital_no_interest"
        )
    return parse_rate(interest_rate_pct) if interest_rate_pct is not None else None


def _check_code_free(code: str, kind: str) -> tuple[str, str | None]:
    """The facility's account codes, once neither the code nor the accounts are taken."""
    if Facility.objects.filter(code=code).exists():
        raise InvalidInput(f"Facility code {code} is already taken.", field="code", code="facility_code_taken")
    principal_code, interest_code = facility_account_codes(code, kind)
    if Account.objects.filter(code__in=[c for c in (principal_code, interest_code) if c]).exists():
        raise InvalidInput(f"Ledger accounts for {code} already exist.", field="code", code="facility_accounts_exist")
    return principal_code, interest_code


def _full_clean(facility: Facility) -> None:
    """The model's own validation, its first failing field as `facility_field_invalid`."""
    try:
        facility.full_clean(exclude=["account", "interest_account"])
    except ValidationError as exc:
        field, messages = next(iter(exc.message_dict.items()))
        raise InvalidInput(" ".join(messages), field=field, code="facility_field_invalid")


def _accounts_open(facility: Facility, principal_code: str, interest_code: str | None) -> None:
    code = facility.code
    if facility.kind == Facility.Kind.LOAN:
        assert interest_code is not None  # facility_account_codes names both for a loan
        facility.account = account_open(
            code=principal_code, name=f"Loan payable, {code}", type=AccountType.LIABILITY, subledger=code
        )
        facility.interest_account = account_open(
            code=interest_code, name=f"Interest payable, {code}", type=AccountType.LIABILITY, subledger=code
        )
    else:
        facility.account = account_open(
            code=principal_code, name=f"Investor capital, {code}", type=AccountType.EQUITY, subledger=code
        )


@transaction.atomic
def facility_create(
    *,
    code: str,
    name: str,
    kind: str,
    counterparty: str,
    commitment: Decimal,
    available_from: date,
    available_until: date,
    maturity_date: date,
    by: User,
    currency: str = Facility.Currency.USD,
    day_count: str = DayCount.ACT_360,
    interest_rate_pct: Decimal | None = None,
) -> Facility:
    """Create a facility and open its ledger accounts: loan payable `2100-<CODE>` and interest
    payable `2000-<CODE>` for a loan, investor capital `3100-<CODE>` for private capital. A
    loan needs `interest_rate_pct`, which becomes its rate from `available_from`. Raises
    InvalidInput (field named) on a taken code, bad amounts, dates out of order."""
    _check_choices(kind=kind, currency=currency, day_count=day_count)
    commitment = parse_money(commitment, field="commitment")
    _check_availability(available_from, available_until)
    _check_maturity(maturity_date, available_until)
    rate = _initial_rate(kind, interest_rate_pct)
    principal_code, interest_code = _check_code_free(code, kind)
    facility = Facility(
        code=code,
        name=name,
        kind=kind,
        counterparty=counterparty,
        currency=currency,
        commitment=commitment,
        available_from=available_from,
        available_until=available_until,
        maturity_date=maturity_date,
        day_count=day_count,
        created_by=by,
    )
    _full_clean(facility)
    _accounts_open(facility, principal_code, interest_code)
    history_as(facility, by=by)
    facility.save()
    if rate is not None:
        InterestRate.objects.create(facility=facility, effective_from=available_from, rate_pct=rate, created_by=by)
    return facility


def _commitment_checked(facility: Facility, commitment: Decimal) -> Decimal:
    """The new commitment, never below what the facility has disbursed or approved."""
    commitment = parse_money(commitment, field="commitment")
    if commitment < facility.disbursed + facility.approved:
        raise InvalidInput(
            f"{facility.code} has {facility.disbursed} disbursed and {facility.approved} reserved by approved "
            "tranches; the commitment cannot be less.",
            field="commitment",
            code="commitment_below_disbursed",
        )
    return commitment


def _check_available_until(facility: Facility, available_until: date) -> None:
    """The availability period runs forwards and never ends before a disbursed tranche."""
    _check_availability(facility.available_from, available_until)
    last_disbursal = facility.tranches.filter(status=Tranche.Status.DISBURSED).aggregate(d=Max("actual_date"))["d"]
    if last_disbursal and available_until < last_disbursal:
        raise InvalidInput(
            f"A tranche was disbursed on {last_disbursal}.",
            field="available_until",
            code="availability_ends_before_disbursal",
        )


@transaction.atomic
def facility_update(
    *,
    facility: Facility,
    by: User,
    name: str | None = None,
    counterparty: str | None = None,
    commitment: Decimal | None = None,
    available_until: date | None = None,
    maturity_date: date | None = None,
) -> Facility:
    """Change the terms that may change. The commitment never goes below what is disbursed or
    approved;
    the availability period never ends before a disbursed tranche."""
    facility = facility_lock(facility)
    terms: dict[str, object] = {}
    if name is not None and name != facility.name:
        terms["name"] = name
    if counterparty is not None and counterparty != facility.counterparty:
        terms["counterparty"] = counterparty
    if commitment is not None:
        terms["commitment"] = _commitment_checked(facility, commitment)
    if available_until is not None:
        _check_available_until(facility, available_until)
        terms["available_until"] = available_until
    if maturity_date is not None:
        terms["maturity_date"] = maturity_date
    for field, value in terms.items():
        setattr(facility, field, value)
    _check_maturity(facility.maturity_date, facility.available_until)
    if terms:
        history_as(facility, by=by)
        facility.save(update_fields=list(terms))
    return facility


@transaction.atomic
def facility_rate_set(*, facility: Facility, effective_from: date, rate_pct: Decimal, by: User) -> InterestRate:
    """Add a rate change to a loan's schedule, in force from `effective_from` until the next.
    Refused (409) on or before the last accrued day, or when a change already starts that day."""
    rate = parse_rate(rate_pct, field="rate_pct")
    if not facility.is_loan:
        raise InvalidInput(
            "Private capital bears no interest rate.", field="facility", code="private_capital_no_interest"
        )
    facility = facility_lock(facility)
    if effective_from < facility.available_from:
        raise InvalidInput(
            f"{facility.code} starts on {facility.available_from}.",
            field="effective_from",
            code="rate_before_availability",
        )
    check_after_accruals(facility, effective_from, field="effective_from")
    if facility.rates.filter(effective_from=effective_from).exists():
        raise Conflict(f"A rate already starts on {effective_from}.", field="effective_from", code="rate_exists")
    return InterestRate.objects.create(facility=facility, effective_from=effective_from, rate_pct=rate, created_by=by)
