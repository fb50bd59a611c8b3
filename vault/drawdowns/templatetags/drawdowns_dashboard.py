"""`{% review_queue_panel %}`: the review-queue panel of the admin index (one query)."""

from django import template
from django.urls import reverse
from django.utils import timezone

from vault.drawdowns.dashboard import review_queue_summary

register = template.Library()
VIEW_PERMISSION = "drawdowns.view_drawdownrequest"


@register.inclusion_tag("admin/drawdowns/dashboard.html", takes_context=True)
def review_queue_panel(context):
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.has_perm(VIEW_PERMISSION):
        return {"visible": False}
    summary = review_queue_summary()
    oldest = summary.oldest_submitted_at
    changelist = reverse("admin:drawdowns_drawdownrequest_changelist")
    return {
        "visible": True,
        "queue": summary,
        "oldest_days": (timezone.now() - oldest).days if oldest else None,
        "review_url": f"{changelist}?queue=review",
        "fulfil_url": f"{changelist}?queue=fulfil",
        "second_url": f"{changelist}?queue=second",
    }
