import pytest
from django.core.management import call_command

from vault.coverage.demo import BACKFILL_DAYS, BACKFILL_TRIGGER, SOURCE
from vault.coverage.models import Alert, CoverageRun, CoverageSnapshot, ForecastVersion, Inbound
from vault.coverage.selectors import snapshot_latest_list
from vault.integrity.invariants import run_checks


@pytest.fixture
def demo(db, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115


def test_demo_gives_ok_materials_one_warning_and_one_breach(demo):
    statuses = {s.material.code: s.status for s in snapshot_latest_list()}
    assert len(statuses) == 13
    assert statuses.pop("GA") == "warning"
    assert statuses.pop("TB-OX") == "breach"
    assert set(statuses.values()) == {"ok"}
    assert set(Alert.objects.filter(resolved_at__isnull=True).values_list("material__code", "level")) == {
        ("GA", "warning"),
        ("TB-OX", "breach"),
    }


def test_demo_has_a_trend_inbound_and_labelled_forecasts(demo):
    assert CoverageRun.objects.filter(trigger=BACKFILL_TRIGGER).count() == BACKFILL_DAYS
    history = list(
        CoverageSnapshot.objects.filter(material__code="TB-OX", run__trigger=BACKFILL_TRIGGER)
        .order_by("as_of")
        .values_list("forward_days", flat=True)
    )
    assert len(history) == BACKFILL_DAYS and history[0] > history[-1]  # coverage has been falling
    assert Inbound.objects.count() == 4
    version = ForecastVersion.objects.get(source=SOURCE)
    assert "invented" in version.source.lower() and version.row_count == 13 * 24


def test_demo_is_idempotent(demo, django_capture_on_commit_callbacks):
    counts = (CoverageRun.objects.count(), ForecastVersion.objects.count(), Inbound.objects.count())
    with django_capture_on_commit_callbacks(execute=True):
        call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert (CoverageRun.objects.count(), ForecastVersion.objects.count(), Inbound.objects.count()) == counts


def test_demo_data_passes_every_invariant_check(demo):
    assert {name: lines for name, lines in run_checks().items() if lines} == {}
