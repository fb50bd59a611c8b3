from vault.core.outbox import outbox_drain

__all__ = ["outbox_drain"]
