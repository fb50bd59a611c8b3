from django.apps import AppConfig


class InventoryConfig(AppConfig):
    name = "vault.inventory"
    label = "inventory"
    verbose_name = "Holdings"
