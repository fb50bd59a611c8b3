from django.apps import AppConfig, apps
from django.db.models.signals import post_migrate


class AccountsConfig(AppConfig):
    name = "vault.accounts"
    label = "accounts"
    verbose_name = "Users and organizations"

    def ready(self) -> None:
        from vault.accounts import checks  # noqa: F401 (registers the deploy check)
        from vault.accounts.services import roles_sync

        # Permissions are created app by app after migrate (and after every flush); the role
        # groups are rebuilt once, after the last app, when all permissions exist.
        def after_last_app(sender, **kwargs):
            with_models = [config for config in apps.get_app_configs() if config.models_module is not None]
            if sender is with_models[-1]:
                roles_sync()

        post_migrate.connect(after_last_app, dispatch_uid="vault.roles_sync", weak=False)
