"""Pure checks of what a caller asks the inventory services to do: which fields a change may
touch, whether a reason was given, which lot status, movement kind and destination. No
database (the models are imported for their choices only); each refusal is an InvalidInput
with the field it is about and a stable code, raised before anything is locked or written."""

from __future__ import annotations

from collections.abc import Collection, Mapping

from vault.core.errors import InvalidInput
from vault.inventory.models import Lot, Movement


def editable_check(changes: Mapping[str, object], *, editable: Collection[str], what: str = "") -> None:
    """Refuse a change of a field outside `editable` (`field_not_editable`, on the first such
    field in alphabetical order). `what` names the row in the message ("a lot")."""
    unknown = sorted(set(changes) - set(editable))
    if unknown:
        of = f" of {what} here" if what else ""
        raise InvalidInput(f"Cannot change {', '.join(unknown)}{of}.", field=unknown[0], code="field_not_editable")


def reason_required(reason: str, *, message: str) -> None:
    """Refuse a blank reason (`reason_required`, field `reason`) with `message`."""
    if not reason.strip():
        raise InvalidInput(message, field="reason", code="reason_required")


def status_check(status: str) -> None:
    """Refuse a lot status other than available, quarantine and damaged (`lot_status_unknown`,
    field `status`)."""
    if status not in Lot.Status.values:
        raise InvalidInput(f"Unknown status {status!r}.", field="status", code="lot_status_unknown")


def movement_kind_check(kind: str, *, creatable: Collection[str], has_to_site: bool) -> None:
    """Refuse a kind outside `creatable` (`movement_kind_unknown`), a transfer without a
    destination (`to_site_required`) and a destination for another kind (`to_site_not_allowed`)."""
    if kind not in creatable:
        raise InvalidInput(
            f"Unknown kind {kind!r}; choose one of {', '.join(creatable)}.",
            field="kind",
            code="movement_kind_unknown",
        )
    if kind == Movement.Kind.TRANSFER and not has_to_site:
        raise InvalidInput("A transfer needs a destination site.", field="to_site", code="to_site_required")
    if kind != Movement.Kind.TRANSFER and has_to_site:
        raise InvalidInput("Only a transfer takes a destination site.", field="to_site", code="to_site_not_allowed")
