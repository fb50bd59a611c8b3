from django.apps import AppConfig
from django.db.models.signals import post_migrate


class LedgerConfig(AppConfig):
    name = "vault.ledger"
    label = "ledger"
    verbose_name = "General ledger"

    def ready(self) -> None:
        from vault.ledger.services import chart_ensure

        # The system accounts are reference data: (re)created after every migrate and every
        # flush (which re-emits post_migrate), so no posting ever finds its account missing.
        post_migrate.connect(
            lambda sender, **kwargs: chart_ensure() if sender is self else None,
            dispatch_uid="vault.ledger.chart_ensure",
            weak=False,
        )
