from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.factories import LotFactory, MaterialFactory, UserFactory
from vault.coverage import domain, services
from vault.coverage.models import Alert, CoverageRun, CoverageSnapshot
from vault.coverage.selectors import coverage_inputs
from vault.coverage.services import checks
from vault.inventory.models import Lot
from vault.inventory.services import lot_reserve, lot_set_status, movement_release, movement_reverse

D = Decimal


@pytest.fixture
def stocked(material, site, manager, set_forecast):
    """NDPR-OX: 3,000 kg in one lot, forecast 300 kg a month for 24 months."""
    lot = LotFactory(material=material, site=site, initial_quantity="3000", by=manager)
    set_forecast(material, per_month="300")
    return lot


def latest(material) -> CoverageSnapshot:
    return CoverageSnapshot.objects.filter(material=material).latest("id")


def test_usable_stock_excludes_reserved_and_unavailable_lots(stocked, material, site, manager):
    lot_reserve(lot=stocked, quantity=D("400"))
    quarantined = LotFactory(material=material, site=site, initial_quantity="500", by=manager)
    lot_set_status(lot=quarantined, status=Lot.Status.QUARANTINE, by=manager)

    services.coverage_check()

    assert latest(material).usable_stock == D("2600.000")


def test_snapshot_holds_the_domain_figures(stocked, material):
    today = timezone.localdate()
    run = services.coverage_check()

    snapshot = latest(material)
    inputs = coverage_inputs(today=today, material_ids=[material.pk])[0]
    expected = domain.forward_coverage(stock=D("3000"), today=today, monthly_demand=inputs.monthly_demand)
    assert snapshot.run == run and run.material_count == 1 and run.as_of == today
    assert snapshot.forward_days == expected.days
    assert snapshot.depletion_date == expected.depletion_date
    assert snapshot.beyond_horizon is False
    assert 290 <= snapshot.forward_days <= 310  # 3,000 kg at ~10 kg a day
    assert snapshot.target_days == 60
    assert snapshot.status == domain.Status.OK
    assert snapshot.trailing_days is None  # nothing released yet
    assert snapshot.trailing_window_days == 90


def test_trailing_coverage_counts_releases_net_of_their_reversals(stocked, material, manager):
    movement_release(lot=stocked, quantity=D("900"), by=manager)
    wrong = movement_release(lot=stocked, quantity=D("300"), by=manager)
    movement_reverse(movement=wrong, by=manager, reason="keyed twice")

    services.coverage_check()

    snapshot = latest(material)
    assert snapshot.released_in_window == D("900.000")
    assert snapshot.usable_stock == D("2100.000")
    # 2,100 kg / (900 kg / 90 days) = 210 days.
    assert snapshot.trailing_days == D("210.0")


def test_trailing_window_is_configurable(stocked, material, manager, settings):
    settings.VAULT_COVERAGE_TRAILING_WINDOW_DAYS = 30
    movement_release(lot=stocked, quantity=D("300"), by=manager)
    services.coverage_check()
    snapshot = latest(material)
    assert snapshot.trailing_window_days == 30
    assert snapshot.trailing_days == D("270.0")  # 2,700 / (300 / 30)


def test_inbound_counts_from_its_date(stocked, material, manager):
    services.coverage_check()
    before = latest(material).forward_days
    services.inbound_create(
        by=manager, material=material, quantity=D("3000"), expected_date=timezone.localdate() + timedelta(days=30)
    )
    services.coverage_check()
    assert latest(material).forward_days > before + 250


def test_material_without_forecast_is_no_demand(material, site, manager):
    LotFactory(material=material, site=site, initial_quantity="10", by=manager)
    services.coverage_check()
    snapshot = latest(material)
    assert snapshot.forward_days is None
    assert snapshot.status == domain.Status.NO_DEMAND
    assert not Alert.objects.exists()


def test_concentration_is_part_of_the_snapshot(material, site, manager, set_forecast):
    LotFactory(material=material, site=site, initial_quantity="700", by=manager, mining_country="CN")
    LotFactory(
        material=material, site=site, initial_quantity="300", by=manager, mining_country="AU", processing_country="CN"
    )
    set_forecast(material)
    services.coverage_check()
    snapshot = latest(material)
    assert snapshot.mining_shares == {"CN": "0.7000", "AU": "0.3000"}
    assert snapshot.processing_shares == {"MY": "0.7000", "CN": "0.3000"}
    assert snapshot.china_mining_share == D("0.7000")
    assert snapshot.china_processing_share == D("0.3000")
    assert snapshot.concentration_flagged is True


def test_concentration_limit_is_configurable(material, site, manager, set_forecast, settings):
    settings.VAULT_CONCENTRATION_LIMIT = "0.75"
    LotFactory(material=material, site=site, initial_quantity="700", by=manager, mining_country="CN")
    LotFactory(material=material, site=site, initial_quantity="300", by=manager, processing_country="US")
    services.coverage_check()
    assert latest(material).concentration_flagged is False


def test_a_check_of_some_materials_leaves_the_others_alone(stocked, material, site, manager, set_forecast):
    other = MaterialFactory(code="DY-OX")
    LotFactory(material=other, site=site, initial_quantity="10", by=manager)
    set_forecast(other)
    services.coverage_check()
    run = services.coverage_check(material_ids=[other.pk])
    assert list(run.snapshots.values_list("material__code", flat=True)) == ["DY-OX"]
    assert CoverageSnapshot.objects.filter(material=material).count() == 1


# --- alerts ---------------------------------------------------------------------------------------


@pytest.fixture
def short(material, site, manager, set_forecast):
    """NDPR-OX: 300 kg against 300 kg a month: about 30 days, a breach of the 60-day target."""
    lot = LotFactory(material=material, site=site, initial_quantity="300", by=manager)
    set_forecast(material, per_month="300")
    return lot


def test_breach_opens_one_alert_and_mails_managers_once(short, material, django_capture_on_commit_callbacks):
    manager2 = UserFactory(username="manager2", role="manager", email="m2@example.com")
    UserFactory(username="fin", role="finance", email="fin@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        run = services.coverage_check()
    with django_capture_on_commit_callbacks(execute=True):
        services.coverage_check()  # rerun: same state, nothing new

    alert = Alert.objects.get()
    assert (alert.material, alert.level, alert.is_open) == (material, Alert.Level.BREACH, True)
    assert alert.opened_by_run == run and alert.target_days == 60
    assert alert.notified_at is not None
    assert len(mail.outbox) == 1
    assert set(mail.outbox[0].to) == {"manager1@example.com", manager2.email}
    assert "NDPR-OX" in mail.outbox[0].body and "Breach" in mail.outbox[0].body
    assert CoverageRun.objects.count() == 2


def test_recovery_resolves_the_alert(short, material, manager):
    services.coverage_check()
    LotFactory(material=material, site=short.site, initial_quantity="10000", by=manager)
    run = services.coverage_check()
    alert = Alert.objects.get()
    assert alert.resolved_at is not None and alert.resolved_by_run == run
    assert run.alerts_resolved == 1


def test_breach_replaces_warning_and_back(material, site, manager, set_forecast):
    # ~66 days: within 20% above a 60-day target.
    lot = LotFactory(material=material, site=site, initial_quantity="660", by=manager)
    set_forecast(material, per_month="300")
    services.coverage_check()
    assert list(Alert.objects.filter(resolved_at__isnull=True).values_list("level", flat=True)) == ["warning"]

    movement_release(lot=lot, quantity=D("300"), by=manager)
    services.coverage_check()
    open_levels = list(Alert.objects.filter(resolved_at__isnull=True).values_list("level", flat=True))
    assert open_levels == ["breach"]
    assert Alert.objects.filter(level="warning", resolved_at__isnull=False).count() == 1


def test_one_open_alert_per_material_and_level_in_the_database(short, material):
    run = services.coverage_check()
    with pytest.raises(IntegrityError), transaction.atomic():
        Alert.objects.create(
            material=material, level=Alert.Level.BREACH, opened_at=timezone.now(), opened_by_run=run, target_days=60
        )
    # A resolved one does not count.
    Alert.objects.update(resolved_at=timezone.now())
    Alert.objects.create(
        material=material, level=Alert.Level.BREACH, opened_at=timezone.now(), opened_by_run=run, target_days=60
    )
    assert Alert.objects.count() == 2


def test_a_failed_check_writes_nothing(short, monkeypatch):
    def boom(**kwargs):
        raise RuntimeError("worker killed")

    monkeypatch.setattr(checks, "_alerts_sync", boom)
    with pytest.raises(RuntimeError):
        services.coverage_check()
    assert not CoverageRun.objects.exists()
    assert not CoverageSnapshot.objects.exists()


# --- queries ------------------------------------------------------------------------------------------


def _materials(count, site, manager, set_forecast):
    """QC-000 ... : 100 kg in one lot (received once) against 50 + n kg a month for 3 months: at
    most about 62 days of cover, under the warning threshold (72 days), so each has an alert
    whatever the day (a second lot would put the first materials past the horizon, whose length,
    60 to 92 days, depends on the day of the month)."""
    for n in range(count):
        material = MaterialFactory(code=f"QC-{n:03d}")
        if not material.lots.exists():
            LotFactory(material=material, site=site, initial_quantity="100", by=manager, mining_country="CN")
        set_forecast(material, per_month=str(50 + n), months=3)


def _check_queries() -> int:
    with CaptureQueriesContext(connection) as ctx:
        services.coverage_check()
    queries = [q["sql"] for q in ctx.captured_queries]
    if connection.vendor == "sqlite":
        # SQLite caps a statement at 999 parameters, so bulk inserts are split into batches; the
        # number of reads and other statements must still be constant.
        queries = [q for q in queries if not q.startswith('INSERT INTO "coverage_')]
    return len(queries)


def test_query_count_does_not_grow_with_materials(site, manager, set_forecast):
    _materials(10, site, manager, set_forecast)
    ten = _check_queries()
    assert CoverageSnapshot.objects.count() == 10 and Alert.objects.count() == 10
    _materials(100, site, manager, set_forecast)  # the first 10 again, and 90 more
    Alert.objects.update(resolved_at=timezone.now())  # so that the second run also opens alerts
    hundred = _check_queries()
    assert CoverageSnapshot.objects.count() == 10 + 100
    assert Alert.objects.filter(resolved_at__isnull=True).count() == 100
    assert ten == hundred
    assert hundred <= 15


def test_the_trailing_window_is_the_last_90_days_today_included(stocked, material, manager):
    """On day T a 90-day window opens at midnight (Vault's time zone) of T-89: a release at
    00:00:00 that day counts, one at 23:59:59 the day before does not."""
    from datetime import time

    from tests.clock import travel_to

    today = timezone.localdate()
    with travel_to(today - timedelta(days=90), time(23, 59, 59), tick=False):
        movement_release(lot=stocked, quantity=D("100"), by=manager)
    with travel_to(today - timedelta(days=89), time(0, 0, 0), tick=False):
        movement_release(lot=stocked, quantity=D("45"), by=manager)
    services.coverage_check()
    snapshot = latest(material)
    assert snapshot.released_in_window == D("45.000")
    assert snapshot.trailing_days == D("5710.0")  # 2,855 kg / (45 kg / 90 days)
