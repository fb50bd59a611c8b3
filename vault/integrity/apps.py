from django.apps import AppConfig


class IntegrityConfig(AppConfig):
    name = "vault.integrity"
    label = "integrity"
    verbose_name = "Integrity checks"
