from django.apps import AppConfig


class DrawdownsConfig(AppConfig):
    name = "vault.drawdowns"
    label = "drawdowns"
    verbose_name = "Drawdowns"

    def ready(self) -> None:
        # Register the notification tasks with Celery wherever Django runs (web, worker, tests).
        from vault.core.controls import Control, control_register
        from vault.drawdowns import tasks  # noqa: F401
        from vault.drawdowns.domain import second_approval_limits

        control_register(
            Control(
                "Large drawdown approvals: a second manager; the requester never approves",
                "two managers",
                "drawdowns.services.drawdown_approve; check constraints on the request",
                setting="VAULT_DRAWDOWN_SECOND_APPROVAL_KG, VAULT_DRAWDOWN_SECOND_APPROVAL_USD",
                value=lambda: f"above {second_approval_limits().kg:,} kg or {second_approval_limits().usd:,} USD",
            )
        )
