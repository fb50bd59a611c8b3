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
        from vault.core.controls import Control, control_register
        from vault.ledger import selectors

        for control in (
            Control(
                "Period close: nothing posts on or before the lock date",
                "finance closes; reopening takes a second finance user",
                "ledger.services.period_close; trigger ledger_journalentry_open_period",
                value=lambda: f"closed through {selectors.closed_through() or 'nothing'}",
            ),
            Control(
                "Manual journal entries: proposed by one finance user, posted by another; no control account",
                "two finance users",
                "ledger.services.manual_entry_post; check constraint, trigger ledger_journalline_sealed",
            ),
            Control(
                "Posted entries are sealed: no line added after the posting transaction",
                "nobody",
                "trigger ledger_journalline_sealed",
            ),
        ):
            control_register(control)
