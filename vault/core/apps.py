from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "vault.core"
    label = "core"
