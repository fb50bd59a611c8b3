from datetime import date
from decimal import Decimal

from django.db.models import Q, QuerySet, Sum

from vault.inventory.models import Lot, Material, Movement, Position, Site

QUANTUM = Decimal("0.001")  # a gram: the precision of every stored quantity


def material_list() -> QuerySet[Material]:
    return Material.objects.order_by("code")


def site_list() -> QuerySet[Site]:
    return Site.objects.order_by("code")


def lot_list() -> QuerySet[Lot]:
    return Lot.objects.select_related("material", "site").order_by("id")


def movement_list() -> QuerySet[Movement]:
    """Newest first; joins what a row shows so that a page is one query."""
    return Movement.objects.select_related("lot", "material", "site", "created_by").order_by("-id")


def position_list() -> QuerySet[Position]:
    return Position.objects.select_related("material", "site").order_by("material__code", "site__code")


def site_held(*, site: Site) -> Decimal:
    """What a site holds now, all materials together (kg)."""
    total = Position.objects.filter(site=site).aggregate(total=Sum("on_hand", default=Decimal("0")))["total"]
    return Decimal(total).quantize(QUANTUM)  # SQLite sums decimals as floats


def lot_totals(*, material_id: int, site_id: int) -> dict[str, Decimal]:
    """The `on_hand`, `reserved` and `unavailable` kg of a material's lots at a site: what its
    Position must hold."""
    zero = Decimal("0")
    totals = Lot.objects.filter(material_id=material_id, site_id=site_id).aggregate(
        total_on_hand=Sum("on_hand", default=zero),
        total_reserved=Sum("reserved", default=zero),
        total_unavailable=Sum("on_hand", filter=~Q(status=Lot.Status.AVAILABLE), default=zero),
    )
    return {name.removeprefix("total_"): Decimal(value).quantize(QUANTUM) for name, value in totals.items()}


def movement_legs(*, movement: Movement) -> list[Movement]:
    """The movement, then, for a transfer, its other leg when there is one."""
    legs = [movement]
    if movement.kind == Movement.Kind.TRANSFER:
        partner = movement.counterpart or Movement.objects.filter(counterpart=movement).first()
        if partner is not None:
            legs.append(partner)
    return legs


def lot_lowest_balance_from(*, lot_id: int, day: date) -> Decimal:
    """The lowest on-hand of a lot at the end of `day` or of any later business date: what a
    movement backdated to `day` can take out without the lot's history going below zero."""
    rows = (
        Movement.objects.filter(lot_id=lot_id)
        .order_by()
        .values("business_date")
        .annotate(total=Sum("quantity"))
        .order_by("business_date")
        .values_list("business_date", "total")
    )
    balance, lowest = Decimal("0"), None
    for business_date, total in rows:
        balance += Decimal(total)
        if business_date >= day:
            lowest = balance if lowest is None else min(lowest, balance)
    if lowest is None:  # nothing on or after `day`: the balance then is the last one
        lowest = balance
    return lowest.quantize(QUANTUM)


def holdings_through(as_of: date) -> dict[int, tuple[Decimal, Decimal]]:
    """{material id: (kg on hand, value at cost)} at the end of business date `as_of`: the sums
    of the stock movements dated up to that day (one grouped query). A movement's `value` is the
    change of its lot's rounded value at cost, so the sums equal the lots' values then."""
    rows = (
        Movement.objects.filter(business_date__lte=as_of)
        .order_by()
        .values("material_id")
        .annotate(quantity=Sum("quantity"), cost=Sum("value"))
    )
    return {
        row["material_id"]: (Decimal(row["quantity"]).quantize(QUANTUM), Decimal(row["cost"]).quantize(Decimal("0.01")))
        for row in rows
        if row["quantity"]
    }
