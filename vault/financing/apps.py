from django.apps import AppConfig


class FinancingConfig(AppConfig):
    name = "vault.financing"
    label = "financing"
    verbose_name = "Financing"

    def ready(self) -> None:
        from vault.core.metrics import metrics_source_register
        from vault.financing.metrics import financing_metrics

        metrics_source_register("financing", financing_metrics)

        from vault.financing.services.accrual import close_needs_accrued_interest
        from vault.ledger.signals import period_closing

        period_closing.connect(
            close_needs_accrued_interest, dispatch_uid="vault.financing.close_needs_accrued_interest"
        )
