from django.apps import AppConfig


class DrawdownsConfig(AppConfig):
    name = "vault.drawdowns"
    label = "drawdowns"
    verbose_name = "Drawdowns"
