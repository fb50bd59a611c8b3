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
