from django.db.models import QuerySet

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
