from django.apps import AppConfig


class LedgerConfig(AppConfig):
    name = "vault.ledger"
    label = "ledger"
    verbose_name = "General ledger"
