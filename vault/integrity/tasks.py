from celery import shared_task
from django.core.mail import send_mail

from vault.accounts.models import User
from vault.accounts.roles import Role
from vault.integrity.chain import seal_streams
from vault.integrity.invariants import run_checks


@shared_task(name="vault.integrity.tasks.vault_check", acks_late=True)
def vault_check() -> int:
    """Run every invariant check; e-mail the managers the violations, if any. Read-only, so
    safe to retry or to run twice."""
    failures = {name: lines for name, lines in run_checks().items() if lines}
    if failures:
        body = "\n".join(f"{name}:\n  " + "\n  ".join(lines) for name, lines in failures.items())
        recipients = list(
            User.objects.filter(role=Role.MANAGER, is_active=True).exclude(email="").values_list("email", flat=True)
        )
        if recipients:
            send_mail(f"Vault integrity check: {len(failures)} invariant(s) violated", body, None, recipients)
    return len(failures)


@shared_task(name="vault.integrity.tasks.seal", acks_late=True)
def seal() -> int:
    """Extend the hash chain over journal entries and stock movements (every 10 minutes); the
    hourly vault_check verifies it. Safe to retry or to run twice (one link per range)."""
    return len(seal_streams())
