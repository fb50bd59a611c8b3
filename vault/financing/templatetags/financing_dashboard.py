"""`{% facility_headroom_panel %}`: the facility-headroom panel of the admin index (one query)."""

from decimal import ROUND_HALF_UP, Decimal

from django import template
from django.template.defaultfilters import floatformat

from vault.financing.dashboard import facility_headroom

register = template.Library()
VIEW_PERMISSION = "financing.view_facility"
MILLION = Decimal("1000000")


@register.inclusion_tag("admin/financing/dashboard.html", takes_context=True)
def facility_headroom_panel(context):
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.has_perm(VIEW_PERMISSION):
        return {"visible": False}
    return {"visible": True, "headroom": facility_headroom()}


@register.filter
def usd_millions(amount: Decimal) -> str:
    """10_520_000_000.00 -> "10,520.0" (millions of dollars, one decimal, half up): a dashboard
    reads at a glance; the facility pages hold the exact cents."""
    return floatformat((Decimal(amount) / MILLION).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP), "1g")
