from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AccountsConfig(AppConfig):
    name = "vault.accounts"
    label = "accounts"
    verbose_name = "Users and organizations"

    def ready(self) -> None:
        from vault.accounts.services import roles_sync

        # Permissions exist only after migrate; the role groups are (re)built from them then.
        post_migrate.connect(lambda **kwargs: roles_sync(), dispatch_uid="vault.roles_sync", weak=False)
