from django.apps import AppConfig


class DrawdownsConfig(AppConfig):
    name = "vault.drawdowns"
    label = "drawdowns"
    verbose_name = "Drawdowns"

    def ready(self) -> None:
        # Register the notification tasks with Celery wherever Django runs (web, worker, tests).
        from vault.drawdowns import tasks  # noqa: F401
