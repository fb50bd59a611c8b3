from django.apps import AppConfig


class FinancingConfig(AppConfig):
    name = "vault.financing"
    label = "financing"
    verbose_name = "Financing"

    def ready(self) -> None:
        from vault.core.metrics import metrics_source_register
        from vault.financing.metrics import financing_metrics

        metrics_source_register("financing", financing_metrics)

        from vault.core.controls import Control, control_register
        from vault.financing.services import second_approval_threshold
        from vault.financing.services.accrual import close_needs_accrued_interest
        from vault.ledger.signals import period_closing

        control_register(
            Control(
                "Tranches: approved by a finance user other than the planner; approvals reserve headroom",
                "two finance users",
                "financing.services.tranche_approve; check constraints, trigger financing_tranche_four_eyes",
            )
        )
        control_register(
            Control(
                "Disbursements above the threshold: requested by one finance user, confirmed by another",
                "two finance users",
                "financing.services.tranche_disburse_confirm; check constraint tranche_disbursed_by_another",
                setting="VAULT_DISBURSEMENT_SECOND_APPROVAL_USD",
                value=lambda: f"{second_approval_threshold():,} USD",
            )
        )
        period_closing.connect(
            close_needs_accrued_interest, dispatch_uid="vault.financing.close_needs_accrued_interest"
        )
