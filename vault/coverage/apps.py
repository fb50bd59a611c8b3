from django.apps import AppConfig


class CoverageConfig(AppConfig):
    name = "vault.coverage"
    label = "coverage"
    verbose_name = "Coverage"

    def ready(self) -> None:
        from vault.core.metrics import metrics_source_register
        from vault.coverage import tasks  # noqa: F401 - registers the tasks the outbox runs by name
        from vault.coverage.metrics import coverage_metrics
        from vault.coverage.signals import on_stock_changed
        from vault.inventory.signals import stock_changed

        stock_changed.connect(on_stock_changed, dispatch_uid="vault.coverage.recheck_on_stock_change")
        metrics_source_register("coverage", coverage_metrics)
