from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from vault.core.errors import InvalidInput
from vault.coverage import services
from vault.coverage.models import Inbound
from vault.coverage.selectors import coverage_inputs

D = Decimal


def test_create_update_delete_leave_history(material, manager):
    today = timezone.localdate()
    inbound = services.inbound_create(
        by=manager, material=material, quantity=D("500"), expected_date=today + timedelta(days=10), note="Lynas"
    )
    services.inbound_update(inbound=inbound, by=manager, quantity=D("400"), confirmed=False)
    inbound.refresh_from_db()
    assert (inbound.quantity, inbound.confirmed) == (D("400.000"), False)
    services.inbound_delete(inbound=inbound, by=manager)
    assert not Inbound.objects.exists()
    history = list(Inbound.history.order_by("history_id").values_list("history_type", "quantity", "history_user"))
    assert history == [("+", D("500"), manager.pk), ("~", D("400"), manager.pk), ("-", D("400"), manager.pk)]


@pytest.mark.parametrize(
    ("quantity", "days", "field"),
    [(D("0"), 1, "quantity"), (D("-1"), 1, "quantity"), (D("1.0001"), 1, "quantity"), (D("5"), -1, "expected_date")],
)
def test_bad_inbound_is_refused(material, manager, quantity, days, field):
    with pytest.raises(InvalidInput) as caught:
        services.inbound_create(
            by=manager, material=material, quantity=quantity, expected_date=timezone.localdate() + timedelta(days=days)
        )
    assert caught.value.field == field
    assert not Inbound.objects.exists()


def test_only_confirmed_future_inbound_is_an_input(material, manager):
    today = timezone.localdate()
    services.inbound_create(by=manager, material=material, quantity=D("10"), expected_date=today)
    services.inbound_create(by=manager, material=material, quantity=D("5"), expected_date=today)
    services.inbound_create(
        by=manager, material=material, quantity=D("99"), expected_date=today + timedelta(days=3), confirmed=False
    )
    assert coverage_inputs(today=today, material_ids=[material.pk])[0].inbound == [(today, D("15.000"))]
    # Tomorrow, today's inbound is in the past: received, or late and to be re-dated.
    assert coverage_inputs(today=today + timedelta(days=1), material_ids=[material.pk])[0].inbound == []


def test_cannot_change_the_material(material, manager):
    inbound = services.inbound_create(
        by=manager, material=material, quantity=D("1"), expected_date=timezone.localdate()
    )
    with pytest.raises(InvalidInput):
        services.inbound_update(inbound=inbound, by=manager, material=None)
