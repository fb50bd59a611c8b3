from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "vault.core"
    label = "core"

    def ready(self) -> None:
        from django_structlog import signals

        from vault.core.logging import bind_request_context

        for signal, uid in (
            (signals.bind_extra_request_metadata, "vault.log_context_started"),
            (signals.bind_extra_request_finished_metadata, "vault.log_context_finished"),
            (signals.bind_extra_request_failed_metadata, "vault.log_context_failed"),
        ):
            signal.connect(bind_request_context, dispatch_uid=uid)
