from vault.core.errors import InvalidInput


class CommitmentExceeded(InvalidInput):
    """A tranche is more than the facility's undrawn commitment (400)."""

    code = "over_commitment"
