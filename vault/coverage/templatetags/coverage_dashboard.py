"""`{% coverage_dashboard %}`: the coverage panel of the admin index (three queries)."""

from django import template

from vault.coverage.admin import days_display, may_run_check
from vault.coverage.domain import Status
from vault.coverage.selectors import dashboard_data

register = template.Library()
STATUS_LABELS = dict(Status.choices)


@register.inclusion_tag("admin/coverage/dashboard.html", takes_context=True)
def coverage_dashboard(context):
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.has_perm("coverage.view_coveragesnapshot"):
        return {"visible": False}
    data = dashboard_data()
    rows = [
        {
            "snapshot": s,
            "forward": days_display(s.forward_days, s.beyond_horizon),
            "trailing": "unbounded" if s.trailing_days is None else s.trailing_days,
            "status_label": STATUS_LABELS.get(s.status, s.status),
        }
        for s in data["snapshots"]
    ]
    counts = {
        status.replace("-", "_"): sum(1 for s in data["snapshots"] if s.status == status)
        for status, _ in Status.choices
    }
    return {
        "visible": True,
        "rows": rows,
        "chart": data["chart"],
        "alerts": data["alerts"],
        "counts": counts,
        "can_check": may_run_check(user),
        "request": request,
        "csrf_token": context.get("csrf_token"),
    }
