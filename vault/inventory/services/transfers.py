"""Transfers of stock between sites.

Guarantees: one transaction writes two movements, the outbound leg at the source lot and the
inbound leg, its `counterpart`, at the lot of the same origin at the destination (created on
the first transfer there, `<root lot number>@<site code>`), and posts their net value (the
rounding of the two lots' values; zero most of the time). Both lots are locked in id order,
then the destination site for its capacity (`exceeds_site_capacity`), then their positions.
A transfer to the lot's own site is refused (`transfer_same_site`), and so is one whose
destination lot number belongs to another lot (`transfer_lot_number_taken`)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from functools import partial

from django.db import transaction

from vault.accounts.models import User
from vault.core.errors import Conflict, InvalidInput
from vault.core.numbers import parse_quantity
from vault.inventory.models import LOT_ORIGIN_FIELDS, Lot, Movement, Site
from vault.inventory.services._common import (
    Change,
    business_date_check,
    changes_apply,
    lots_lock,
    movement_record,
    movements_post,
    position_ensure,
)


def _transfer_destination(lot: Lot, to_site: Site) -> Lot:
    """The lot of `lot`'s origin at `to_site`: its root lot when the root is there, else the
    transferred lot, created on the first transfer."""
    root = lot.parent or lot
    if root.site_id == to_site.pk:
        return root
    destination, _ = Lot.objects.get_or_create(
        lot_number=f"{root.lot_number}@{to_site.code}",
        defaults={
            "material_id": root.material_id,
            "site": to_site,
            "parent": root,
            "status": lot.status,
            **{name: getattr(root, name) for name in LOT_ORIGIN_FIELDS},
        },
    )
    if (destination.parent_id, destination.material_id, destination.site_id) != (root.pk, root.material_id, to_site.pk):
        raise Conflict(
            f"Lot number {destination.lot_number} is taken by another lot; rename it before transferring here.",
            field="to_site",
            code="transfer_lot_number_taken",
        )
    position_ensure(destination.material_id, to_site.pk)
    return destination


@transaction.atomic
def movement_transfer(
    *,
    lot: Lot,
    quantity: Decimal,
    to_site: Site,
    by: User,
    reason: str = "",
    reference: str = "",
    business_date: date | None = None,
) -> Movement:
    """Move quantity from a lot to the lot of the same origin at `to_site` (created on first
    transfer), both legs on `business_date` (today by default; `business_date_check`). Returns
    the outbound leg; `counterpart` is the inbound leg."""
    quantity = parse_quantity(quantity)
    if to_site.pk == lot.site_id:
        raise InvalidInput("A transfer goes to another site.", field="to_site", code="transfer_same_site")
    destination = _transfer_destination(lot, to_site)
    locked = lots_lock(lot, destination)
    day = business_date_check(business_date, lot=locked[lot.pk])
    outbound, inbound = Change(locked[lot.pk], -quantity), Change(locked[destination.pk], quantity)
    after = changes_apply([outbound, inbound], on=day)
    record = partial(
        movement_record,
        kind=Movement.Kind.TRANSFER,
        after=after,
        by=by,
        business_date=day,
        reason=reason,
        reference=reference,
    )
    in_leg = record(change=inbound)
    out_leg = record(change=outbound, counterpart=in_leg)
    movements_post([out_leg, in_leg], by=by)
    return out_leg
