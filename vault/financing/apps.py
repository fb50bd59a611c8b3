from django.apps import AppConfig


class FinancingConfig(AppConfig):
    name = "vault.financing"
    label = "financing"
    verbose_name = "Financing"
