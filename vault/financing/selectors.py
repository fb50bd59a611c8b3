"""Reads of the financing: lists for the API and admin, the facility statement and the valuation
of the holdings."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Exists, Max, OuterRef, Prefetch, QuerySet, Subquery, Sum
from django.db.models.functions import TruncMonth, TruncQuarter
from django.utils import timezone

from vault.core.errors import InvalidInput
from vault.financing.models import (
    Facility,
    FeeReceipt,
    InterestAccrual,
    InterestPayment,
    InterestRate,
    PricePoint,
    Repayment,
    Tranche,
)
from vault.inventory import selectors as inventory_selectors
from vault.inventory.models import value_at_cost
from vault.ledger.models import JournalLine

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
MAX_STATEMENT_PERIODS = 1200  # 100 years of months


# --- lists ----------------------------------------------------------------------------------------


def facility_list() -> QuerySet[Facility]:
    """Facilities with their accounts and rate schedule (two queries a page)."""
    return (
        Facility.objects.select_related("account", "interest_account")
        .prefetch_related(Prefetch("rates", queryset=InterestRate.objects.order_by("effective_from")))
        .order_by("code")
    )


def rate_on(facility: Facility, day: date) -> Decimal | None:
    """The rate in force on `day`, from the (prefetched) schedule."""
    schedule = sorted(facility.rates.all(), key=lambda r: r.effective_from)
    index = bisect_right([r.effective_from for r in schedule], day) - 1
    return schedule[index].rate_pct if index >= 0 else None


def tranche_list() -> QuerySet[Tranche]:
    return Tranche.objects.select_related(
        "facility", "created_by", "approved_by", "disbursement_requested_by", "disbursed_by"
    ).order_by("-expected_date", "-id")


def repayment_list() -> QuerySet[Repayment]:
    return Repayment.objects.select_related("facility", "created_by").order_by("-date", "-id")


def accrual_list() -> QuerySet[InterestAccrual]:
    return InterestAccrual.objects.select_related("facility").order_by("-date", "facility__code")


def interest_payment_list() -> QuerySet[InterestPayment]:
    return InterestPayment.objects.select_related("facility", "created_by").order_by("-date", "-id")


def fee_list() -> QuerySet[FeeReceipt]:
    return FeeReceipt.objects.select_related("organization", "entry", "created_by").order_by("-date", "-id")


def price_point_list() -> QuerySet[PricePoint]:
    return PricePoint.objects.select_related("material", "created_by", "confirmed_by").order_by(
        "material__code", "-date", "-id"
    )


def loan_facility_ids() -> list[int]:
    return list(Facility.objects.filter(kind=Facility.Kind.LOAN).order_by("pk").values_list("pk", flat=True))


# --- interest -------------------------------------------------------------------------------------


def last_accrued_day(facility: Facility) -> date | None:
    """The last day of the loan's interest accrued, None before the first accrual."""
    return InterestAccrual.objects.filter(facility=facility).aggregate(last=Max("date"))["last"]


def interest_payable(facility: Facility, *, as_of: date | None = None) -> Decimal:
    """Interest accrued and not yet paid (through `as_of`)."""
    accruals = facility.accruals.all()
    payments = facility.interest_payments.all()
    if as_of:
        accruals, payments = accruals.filter(date__lte=as_of), payments.filter(date__lte=as_of)
    accrued = accruals.aggregate(total=Sum("amount"))["total"] or Decimal("0")
    paid = payments.aggregate(total=Sum("amount"))["total"] or Decimal("0")
    return (accrued - paid).quantize(CENT)


# --- facility statement ---------------------------------------------------------------------------


@dataclass(frozen=True)
class StatementRow:
    period: str
    start: date
    end: date
    opening_principal: Decimal
    disbursements: Decimal
    repayments: Decimal
    principal_adjustments: Decimal
    closing_principal: Decimal
    opening_interest_payable: Decimal
    interest_accrued: Decimal
    interest_paid: Decimal
    interest_adjustments: Decimal
    closing_interest_payable: Decimal


STATEMENT_COLUMNS = [
    "period",
    "start",
    "end",
    "opening_principal",
    "disbursements",
    "repayments",
    "principal_adjustments",
    "closing_principal",
    "opening_interest_payable",
    "interest_accrued",
    "interest_paid",
    "interest_adjustments",
    "closing_interest_payable",
]


@dataclass(frozen=True)
class Statement:
    facility: Facility
    period: str
    date_from: date
    date_to: date
    rows: list[StatementRow] = field(default_factory=list)


def _period_start(day: date, period: str) -> date:
    if period == "quarter":
        return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    return date(day.year, day.month, 1)


def _period_end(start: date, period: str) -> date:
    months = 3 if period == "quarter" else 1
    month = start.month - 1 + months
    year = start.year + month // 12
    if year > date.max.year:
        return date.max
    return date(year, month % 12 + 1, 1) - timedelta(days=1)


def _period_count(date_from: date, date_to: date, period: str) -> int:
    months = (date_to.year - date_from.year) * 12 + date_to.month - date_from.month + 1
    return months if period != "quarter" else (months + 2) // 3 + 1


def _period_label(start: date, period: str) -> str:
    if period == "quarter":
        return f"{start.year}-Q{(start.month - 1) // 3 + 1}"
    return f"{start.year}-{start.month:02d}"


def _periods(date_from: date, date_to: date, period: str) -> Iterator[tuple[date, date]]:
    """The (start, end) of each month or quarter that `date_from`..`date_to` touches."""
    start = _period_start(date_from, period)
    while True:
        end = _period_end(start, period)
        yield start, end
        if end >= date_to:
            return
        start = end + timedelta(days=1)


def _statement_check(date_from: date, date_to: date, period: str) -> None:
    if date_to < date_from:
        raise InvalidInput("The statement ends before it starts.", field="date_to", code="ends_before_start")
    if _period_count(date_from, date_to, period) > MAX_STATEMENT_PERIODS:
        raise InvalidInput(
            f"A statement covers at most {MAX_STATEMENT_PERIODS} periods.", field="date_to", code="statement_too_long"
        )


def _credit_less_debit(row: dict) -> Decimal:
    return ((row["c"] or ZERO) - (row["d"] or ZERO)).quantize(CENT)


def _opening_balances(lines: QuerySet[JournalLine], date_from: date) -> dict[int, Decimal]:
    """{account id: credit balance} at the start of `date_from` (one query)."""
    return {
        row["account_id"]: _credit_less_debit(row)
        for row in lines.filter(entry__date__lt=date_from)
        .values("account_id")
        .annotate(d=Sum("debit"), c=Sum("credit"))
        .order_by()
    }


Moves = dict[tuple[date, int, str], Decimal]  # (period start, account id, source type): credit less debit


def _moves(lines: QuerySet[JournalLine], date_from: date, date_to: date, period: str) -> Moves:
    """The credit less debit of each account per period and source type of entry (one query)."""
    trunc = TruncQuarter if period == "quarter" else TruncMonth
    moves: Moves = {}
    for row in (
        lines.filter(entry__date__gte=date_from, entry__date__lte=date_to)
        .annotate(bucket=trunc("entry__date"))
        .values("bucket", "account_id", "entry__source_type")
        .annotate(d=Sum("debit"), c=Sum("credit"))
        .order_by()
    ):
        bucket = row["bucket"]
        bucket = bucket.date() if hasattr(bucket, "date") and callable(bucket.date) else bucket
        key = (bucket, row["account_id"], row["entry__source_type"])
        moves[key] = (moves.get(key, ZERO) + _credit_less_debit(row)).quantize(CENT)
    return moves


PRINCIPAL_SOURCES = ("tranche", "repayment")
INTEREST_SOURCES = ("accrual", "interest_payment")


def _account_moves(
    moves: Moves, bucket: date, account_id: int | None, sources: tuple[str, str]
) -> tuple[Decimal, Decimal, Decimal]:
    """What an account took in (credits of `sources[0]` entries), paid out (debits of
    `sources[1]`) and moved otherwise (entries of other origins: manual corrections) in a period."""
    own = dict.fromkeys(sources, ZERO)
    other = ZERO
    for (b, a, s), amount in moves.items():
        if b == bucket and a == account_id:
            if s in own:
                own[s] += amount
            else:
                other += amount
    return own[sources[0]], -own[sources[1]], other


def facility_statement(
    *, facility: Facility, period: str = "month", date_from: date | None = None, date_to: date | None = None
) -> Statement:
    """Per month or quarter: opening principal, disbursements, repayments, closing principal,
    and the same for interest payable (accrued, paid), read from the journal lines of the
    facility's accounts (so the statement is what the ledger proves). Entries of other origins
    on those accounts (manual corrections) show as adjustments. Two queries. Raises InvalidInput
    (field `date_to`): `ends_before_start`, `statement_too_long`."""
    date_from = date_from or facility.available_from
    date_to = date_to or timezone.localdate()
    _statement_check(date_from, date_to, period)
    accounts = [facility.account_id] + ([facility.interest_account_id] if facility.interest_account_id else [])
    lines = JournalLine.objects.filter(account_id__in=accounts)
    opening = _opening_balances(lines, date_from)
    moves = _moves(lines, date_from, date_to, period)
    principal = opening.get(facility.account_id, ZERO)
    interest = opening.get(facility.interest_account_id, ZERO) if facility.interest_account_id else ZERO
    rows = []
    for start, end in _periods(date_from, date_to, period):
        disbursed, repaid, principal_other = _account_moves(moves, start, facility.account_id, PRINCIPAL_SOURCES)
        accrued, paid, interest_other = _account_moves(moves, start, facility.interest_account_id, INTEREST_SOURCES)
        row = StatementRow(
            period=_period_label(start, period),
            start=max(start, date_from),
            end=min(end, date_to),
            opening_principal=principal,
            disbursements=disbursed,
            repayments=repaid,
            principal_adjustments=principal_other,
            closing_principal=principal + disbursed - repaid + principal_other,
            opening_interest_payable=interest,
            interest_accrued=accrued,
            interest_paid=paid,
            interest_adjustments=interest_other,
            closing_interest_payable=interest + accrued - paid + interest_other,
        )
        rows.append(row)
        principal, interest = row.closing_principal, row.closing_interest_payable
    return Statement(facility=facility, period=period, date_from=date_from, date_to=date_to, rows=rows)


# --- valuation ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MaterialValuation:
    material: str
    name: str
    quantity_kg: Decimal
    cost: Decimal
    market_price: Decimal | None
    price_date: date | None
    price_source: str | None
    market_value: Decimal | None
    floor_price: Decimal | None
    floor_value: Decimal | None
    unrealised_gain_loss: Decimal | None

    @property
    def average_cost_per_kg(self) -> Decimal | None:
        if not self.quantity_kg:
            return None
        return (self.cost / self.quantity_kg).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Valuation:
    as_of: date
    source: str | None
    known_at: datetime | None
    materials: list[MaterialValuation]
    total_cost: Decimal
    total_market_value: Decimal
    total_floor_value: Decimal
    total_unrealised_gain_loss: Decimal
    unpriced: list[str]


def _money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def holdings_as_of(as_of: date) -> dict[int, tuple[Decimal, Decimal]]:
    """{material id: (kg on hand, value at cost)} at the end of `as_of`. Today and later: the
    lots' maintained on-hand (value at cost per lot, rounded per lot). Before: the sums of the
    stock movements with a business date up to that day (one grouped query); a movement's `value` is the
    change of its lot's rounded value at cost, so the sums equal the lots' values then."""
    holdings: dict[int, tuple[Decimal, Decimal]] = {}
    if as_of >= timezone.localdate():
        lots = (
            inventory_selectors.lot_list()
            .filter(on_hand__gt=0)
            .order_by()
            .values_list("material_id", "on_hand", "unit_cost")
        )
        for material_id, on_hand, unit_cost in lots:
            quantity, cost = holdings.get(material_id, (Decimal("0"), ZERO))
            holdings[material_id] = (quantity + on_hand, cost + value_at_cost(on_hand, unit_cost))
        return holdings
    return {material: held for material, held in inventory_selectors.holdings_through(as_of).items() if held[0]}


def prices_in_force(known_at: datetime | None = None) -> QuerySet[PricePoint]:
    """The price in force of each (material, date, source) as known at `known_at` (now by
    default): its latest version confirmed (or needing no confirmation) on or before then;
    pending and rejected versions never count, and a withdrawn day and source has no price."""
    known_at = known_at or timezone.now()
    newer = PricePoint.objects.filter(
        material=OuterRef("material"),
        date=OuterRef("date"),
        source=OuterRef("source"),
        status=PricePoint.Status.CONFIRMED,
        confirmed_at__lte=known_at,
        version__gt=OuterRef("version"),
    )
    return PricePoint.objects.filter(status=PricePoint.Status.CONFIRMED, confirmed_at__lte=known_at).filter(
        ~Exists(newer), withdrawn=False
    )


def holdings_valuation(
    *, as_of: date | None = None, source: str | None = None, known_at: datetime | None = None
) -> Valuation:
    """The holdings per material at cost, at the latest market price on or before `as_of`
    (of `source` when given; ties on a day go to the latest recorded) as it was known at
    `known_at` (now by default: `prices_in_force`), and at the material's price floor, with the
    unrealised gain or loss of market against cost. Totals add the materials that have a price
    (market) or a floor (floor). Three queries."""
    as_of = as_of or timezone.localdate()
    holdings = holdings_as_of(as_of)
    prices = prices_in_force(known_at).filter(material=OuterRef("pk"), date__lte=as_of)
    if source:
        prices = prices.filter(source=source)
    prices = prices.order_by("-date", "-id")
    materials = (
        inventory_selectors.material_list()
        .filter(pk__in=holdings.keys())
        .annotate(
            market_price=Subquery(prices.values("usd_per_kg")[:1]),
            price_date=Subquery(prices.values("date")[:1]),
            price_source=Subquery(prices.values("source")[:1]),
        )
        .order_by("code")
    )
    rows = []
    for material in materials:
        quantity, cost = holdings[material.pk]
        market_value = _money(quantity * material.market_price) if material.market_price is not None else None
        floor_value = _money(quantity * material.price_floor) if material.price_floor is not None else None
        rows.append(
            MaterialValuation(
                material=material.code,
                name=material.name,
                quantity_kg=quantity,
                cost=cost,
                market_price=material.market_price,
                price_date=material.price_date,
                price_source=material.price_source,
                market_value=market_value,
                floor_price=material.price_floor,
                floor_value=floor_value,
                unrealised_gain_loss=market_value - cost if market_value is not None else None,
            )
        )
    return Valuation(
        as_of=as_of,
        source=source,
        known_at=known_at,
        materials=rows,
        total_cost=sum((r.cost for r in rows), ZERO),
        total_market_value=sum((r.market_value for r in rows if r.market_value is not None), ZERO),
        total_floor_value=sum((r.floor_value for r in rows if r.floor_value is not None), ZERO),
        total_unrealised_gain_loss=sum(
            (r.unrealised_gain_loss for r in rows if r.unrealised_gain_loss is not None), ZERO
        ),
        unpriced=[r.material for r in rows if r.market_price is None],
    )


def loans_not_accrued_through(day: date) -> list[str]:
    """The codes of the loans with principal disbursed on or before `day` whose interest is not
    accrued through `day` (their last accrual is earlier, or there is none)."""
    last = InterestAccrual.objects.filter(facility=OuterRef("pk")).order_by("-date").values("date")[:1]
    loans = Facility.objects.filter(
        kind=Facility.Kind.LOAN, tranches__status=Tranche.Status.DISBURSED, tranches__actual_date__lte=day
    ).annotate(last_accrued=Subquery(last))
    return sorted({f.code for f in loans if f.last_accrued is None or f.last_accrued < day})
