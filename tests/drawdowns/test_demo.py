"""The demo data: requests in every state, through the services, and idempotent."""

import io

import pytest
from django.core.management import call_command

from vault.accounts import demo as accounts_demo
from vault.accounts.models import User
from vault.drawdowns import demo
from vault.drawdowns.models import (
    DisruptionEvent,
    DrawdownRequest,
    DrawdownTransition,
    ParticipationAgreement,
    ReplenishmentObligation,
)
from vault.inventory import demo as inventory_demo
from vault.inventory.models import Lot, Movement
from vault.ledger.models import JournalEntry


@pytest.fixture
def seeded(db):
    accounts_demo.seed()
    manager = User.objects.get(username="manager")
    inventory_demo.seed(by=manager)
    demo.seed(by=manager)
    return manager


def _snapshot():
    return {
        "agreements": ParticipationAgreement.objects.count(),
        "disruptions": DisruptionEvent.objects.count(),
        "requests": sorted(DrawdownRequest.objects.values_list("reference", "status", "approved_quantity")),
        "transitions": DrawdownTransition.objects.count(),
        "obligations": sorted(ReplenishmentObligation.objects.values_list("pk", "status", "replenished_quantity")),
        "lots": sorted(Lot.objects.values_list("lot_number", "on_hand", "reserved")),
        "movements": Movement.objects.count(),
        "entries": JournalEntry.objects.count(),
    }


def test_demo_has_requests_in_every_state(seeded):
    statuses = set(DrawdownRequest.objects.values_list("status", flat=True))
    assert statuses == set(DrawdownRequest.Status.values)
    partial = DrawdownRequest.objects.get(status="approved")
    assert partial.approved_quantity < partial.quantity
    assert set(ParticipationAgreement.objects.values_list("organization__code", flat=True)) == {
        "ACME-MOTORS",
        "AEROFORGE",
    }
    assert DisruptionEvent.objects.filter(materials__code="GA").exists()
    assert ReplenishmentObligation.objects.filter(status="open").exists()
    assert ReplenishmentObligation.objects.filter(status="replenished").exists()
    assert JournalEntry.objects.filter(source_type="fee").count() == 1
    priorities = set(DrawdownRequest.objects.values_list("priority", flat=True))
    assert priorities == set(DrawdownRequest.Priority.values)


def test_demo_is_idempotent(seeded):
    before = _snapshot()
    demo.seed(by=seeded)
    assert _snapshot() == before


def test_seed_demo_command_includes_drawdowns(db):
    out, err = io.StringIO(), io.StringIO()
    call_command("seed_demo", stdout=out, stderr=err)
    assert "Demo data" in err.getvalue() and "5/5" in err.getvalue()  # tqdm's bar
    assert "coverage demo data" in err.getvalue() and "Demo data ready" in out.getvalue()
    assert DrawdownRequest.objects.filter(reference__startswith="DEMO-").count() == 9
    before = _snapshot()
    out = io.StringIO()
    call_command("seed_demo", "--no-progress", stdout=out)
    assert "[5/5] coverage demo data" in out.getvalue()
    assert _snapshot() == before
