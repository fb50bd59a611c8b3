from decimal import Decimal

from django.db.models import QuerySet, Sum

from vault.inventory.models import Lot, Material, Movement, Position, Site


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
    return Decimal(total).quantize(Decimal("0.001"))
