from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "vault.core"
    label = "core"

    def ready(self) -> None:
        from django_structlog import signals

        from vault.core.logging import bind_organization

        signals.bind_extra_request_finished_metadata.connect(bind_organization, dispatch_uid="vault.log_organization")
        signals.bind_extra_request_failed_metadata.connect(bind_organization, dispatch_uid="vault.log_organization_f")
