"""E-mails about drawdown requests. Called by the Celery tasks in vault.drawdowns.tasks, which
the services enqueue through the transactional outbox; never called inside a request."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mail

from vault.accounts.models import User
from vault.accounts.roles import Role
from vault.drawdowns.models import DrawdownRequest, DrawdownTransition


def _organization_recipients(organization_id: int) -> list[str]:
    return sorted(
        User.objects.filter(organization_id=organization_id, is_active=True)
        .exclude(email="")
        .values_list("email", flat=True)
    )


def _manager_recipients() -> list[str]:
    return sorted(
        User.objects.filter(role=Role.MANAGER, is_active=True).exclude(email="").values_list("email", flat=True)
    )


def _describe(request: DrawdownRequest) -> str:
    lines = [
        f"Request: {request.number}",
        f"Organization: {request.organization.code} ({request.organization.name})",
        f"Material: {request.material.code}",
        f"Quantity requested: {request.quantity} kg",
    ]
    if request.approved_quantity is not None:
        lines.append(f"Quantity approved: {request.approved_quantity} kg")
    lines += [f"Needed by: {request.needed_by}", f"Priority: {request.get_priority_display()}"]
    return "\n".join(lines)


def status_changed_send(*, transition_id: int) -> int:
    """Tell the request's organization that its request changed state. Returns mails sent."""
    transition = DrawdownTransition.objects.select_related("request__organization", "request__material", "by").get(
        pk=transition_id
    )
    request = transition.request
    recipients = _organization_recipients(request.organization_id)
    if not recipients:
        return 0
    status = transition.get_to_status_display().lower()
    body = [
        f"Drawdown request {request.number} is now {status} ({transition.at:%Y-%m-%d %H:%M} UTC, "
        f"by {transition.by.get_username()}).",
        "",
        _describe(request),
    ]
    if transition.comment:
        body += ["", f"Comment: {transition.comment}"]
    return send_mail(
        subject=f"[Vault] {request.number} {status}: {request.material.code}",
        message="\n".join(body),
        from_email=settings.DEFAULT_FROM_EMAIL,
        recipient_list=recipients,
    )


def submitted_send(*, request_id: int) -> int:
    """Tell the managers that a request awaits review. Returns mails sent."""
    request = DrawdownRequest.objects.select_related("organization", "material").get(pk=request_id)
    recipients = _manager_recipients()
    if not recipients:
        return 0
    body = [
        f"{request.organization.code} submitted drawdown request {request.number} for review.",
        "",
        _describe(request),
        "",
        f"Justification: {request.justification or '-'}",
    ]
    return send_mail(
        subject=f"[Vault] New drawdown request {request.number} ({request.get_priority_display()})",
        message="\n".join(body),
        from_email=settings.DEFAULT_FROM_EMAIL,
        recipient_list=recipients,
    )
