from django.apps import AppConfig


class IntegrityConfig(AppConfig):
    name = "vault.integrity"
    label = "integrity"
    verbose_name = "Integrity checks"

    def ready(self) -> None:
        from vault.core.controls import Control, control_register
        from vault.integrity.chain import SEAL_HORIZON

        control_register(
            Control(
                "Hash chain over journal entries and stock movements, verified hourly by vault_check",
                "the beat (integrity-seal, every 10 minutes)",
                "integrity.chain; vault_check rule seals_match_rows",
                value=lambda: f"rows sealed {SEAL_HORIZON} after they are posted",
            )
        )
