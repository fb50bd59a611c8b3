from django.apps import AppConfig


class CoverageConfig(AppConfig):
    name = "vault.coverage"
    label = "coverage"
    verbose_name = "Coverage"
