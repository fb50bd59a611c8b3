"""Celery: eager tasks and signals here; one test through a real worker on Redis at the end."""

import time
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connections

from tests.coverage.conftest import REDIS_URL
from tests.factories import LotFactory
from vault.core.models import OutboxMessage
from vault.coverage import tasks
from vault.coverage.models import CoverageRun, CoverageSnapshot
from vault.inventory.services import lot_reserve, movement_release

D = Decimal
RECHECK = "vault.coverage.tasks.coverage_recheck"


@pytest.fixture
def stocked(material, site, manager, set_forecast):
    lot = LotFactory(material=material, site=site, initial_quantity="5000", by=manager)
    set_forecast(material, per_month="300")
    OutboxMessage.objects.all().delete()  # the upload's own recheck request
    return lot


def test_daily_task_is_in_the_beat_schedule():
    from django.conf import settings

    entry = settings.CELERY_BEAT_SCHEDULE["coverage-check-daily"]
    assert entry["task"] == tasks.coverage_check_all.name == "vault.coverage.tasks.coverage_check_all"
    assert tasks.coverage_check_all.acks_late and tasks.coverage_check_material.acks_late


def test_check_all_and_check_material_tasks(stocked, material):
    run_id = tasks.coverage_check_all.delay().get()
    assert CoverageRun.objects.get(pk=run_id).trigger == "schedule"
    run_id = tasks.coverage_check_material.delay(material.pk).get()
    assert list(CoverageRun.objects.get(pk=run_id).snapshots.values_list("material_id", flat=True)) == [material.pk]
    assert tasks.coverage_check_material.delay(999999).get() is None


def test_large_release_triggers_a_recheck_on_commit(stocked, material, manager, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        movement_release(lot=stocked, quantity=D("1000"), by=manager)
    message = OutboxMessage.objects.get(task=RECHECK)
    assert message.kwargs == {"material_ids": [material.pk]} and message.done_at is not None
    run = CoverageRun.objects.get()
    assert run.trigger == "recheck"
    assert CoverageSnapshot.objects.get(run=run).usable_stock == D("4000.000")


def test_reservation_triggers_a_recheck(stocked, material, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        lot_reserve(lot=stocked, quantity=D("2500"))
    assert CoverageSnapshot.objects.get().usable_stock == D("2500.000")


def test_approved_drawdown_triggers_a_recheck(
    stocked, material, manager, maker_a, org_a, django_capture_on_commit_callbacks
):
    from django.utils import timezone

    from vault.drawdowns import services as drawdowns

    drawdowns.agreement_create(
        by=manager,
        organization=org_a,
        material=material,
        quantity=D("3000"),
        locked_price=D("80"),
        replenishment_days=90,
    )
    request = drawdowns.drawdown_create(
        by=maker_a,
        material=material,
        quantity=D("1500"),
        needed_by=timezone.localdate() + timedelta(days=20),
        replenish_by=timezone.localdate() + timedelta(days=60),
        justification="Line ramp-up",
        submit=True,
    )
    assert not CoverageRun.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        drawdowns.drawdown_approve(request=request, by=manager)
    # The approval reserved 1,500 kg: the recheck sees it as no longer usable.
    assert CoverageSnapshot.objects.get().usable_stock == D("3500.000")


def test_small_change_does_not_trigger_and_threshold_is_configurable(
    stocked, manager, settings, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        movement_release(lot=stocked, quantity=D("999.999"), by=manager)
    assert not OutboxMessage.objects.exists() and not CoverageRun.objects.exists()
    settings.VAULT_COVERAGE_RECHECK_KG = 10
    with django_capture_on_commit_callbacks(execute=True):
        movement_release(lot=stocked, quantity=D("10"), by=manager)
    assert CoverageRun.objects.count() == 1


def test_an_outbox_recheck_runs_once_however_often_delivered(stocked, material):
    from vault.core.outbox import outbox_enqueue

    message = outbox_enqueue(RECHECK, material_ids=[material.pk])
    tasks.coverage_recheck.apply(kwargs={"outbox_id": message.pk})
    tasks.coverage_recheck.apply(kwargs={"outbox_id": message.pk})  # redelivered
    assert CoverageRun.objects.count() == 1


# --- a real worker on Redis ----------------------------------------------------------------------


@pytest.fixture
def redis_worker_app(monkeypatch):
    """The project's Celery app pointed at Redis db 14, not eager, restored afterwards."""
    from celery.signals import task_postrun

    from config.celery_app import app

    # Django settings are read with the CELERY_ prefix, which wins over lower-case keys.
    overrides = {
        "CELERY_BROKER_URL": REDIS_URL,
        "CELERY_TASK_ALWAYS_EAGER": False,
        "CELERY_BROKER_TRANSPORT_OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 5},
        "CELERY_RESULT_BACKEND": None,
    }
    # The effective values (Celery keeps keys lower-case, so app.conf.get("CELERY_...") is None).
    saved = {
        "CELERY_BROKER_URL": app.conf.broker_url,
        "CELERY_TASK_ALWAYS_EAGER": app.conf.task_always_eager,
        "CELERY_BROKER_TRANSPORT_OPTIONS": app.conf.broker_transport_options,
        "CELERY_RESULT_BACKEND": app.conf.result_backend,
    }
    assert saved["CELERY_TASK_ALWAYS_EAGER"] is True

    def close_connections(**kwargs):
        # The worker thread's own database connections: closed so the test database can be
        # flushed and dropped.
        connections.close_all()

    # Celery reads CELERY_BROKER_URL from the environment before its settings (CI sets it).
    monkeypatch.setenv("CELERY_BROKER_URL", REDIS_URL)
    try:
        app.conf.update(overrides)
        app._pool = None
        app.amqp._producer_pool = None
        assert app.conf.broker_url == REDIS_URL and not app.conf.task_always_eager
        task_postrun.connect(close_connections, weak=False)
        app.control.purge()
        yield app
    finally:
        task_postrun.disconnect(close_connections)
        if app._pool is not None:
            app.pool.force_close_all()
        app.conf.update(saved)
        assert app.conf.task_always_eager is True
        app._pool = None
        app.amqp._producer_pool = None


def _wait_for(condition, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_real_worker_runs_the_daily_check_and_a_recheck(redis_worker_app, chart_of_accounts, material, site, manager):
    from celery.contrib.testing.worker import start_worker

    from tests.coverage.conftest import months_from
    from vault.coverage import services

    lot = LotFactory(material=material, site=site, initial_quantity="5000", by=manager)
    with start_worker(redis_worker_app, pool="solo", perform_ping_check=False, shutdown_timeout=30):
        from django.utils import timezone

        rows = [
            services.ForecastRow(material_id=material.pk, organization_id=None, month=m, quantity=D("300"))
            for m in months_from(timezone.localdate(), 24)
        ]
        services.forecast_upload(rows=rows, by=manager, source="test")  # enqueues a recheck
        tasks.coverage_check_all.delay()
        assert _wait_for(lambda: CoverageRun.objects.filter(trigger="schedule").exists())
        assert _wait_for(lambda: not OutboxMessage.objects.filter(done_at__isnull=True).exists())

        movement_release(lot=lot, quantity=D("2000"), by=manager)  # committed: the signal fires now
        assert _wait_for(lambda: CoverageSnapshot.objects.filter(material=material, usable_stock=D("3000")).exists()), (
            "the worker did not recheck after the release"
        )

    # Rechecks: the lot's 5,000 kg receipt, the forecast upload and the 2,000 kg release.
    runs = list(CoverageRun.objects.order_by("id").values_list("trigger", flat=True))
    assert runs.count("schedule") == 1 and runs.count("recheck") == 3
    assert OutboxMessage.objects.filter(task=RECHECK, done_at__isnull=False, sent_at__isnull=False).count() == 3
    snapshot = CoverageSnapshot.objects.filter(material=material).latest("id")
    assert snapshot.forward_days is not None and snapshot.run.material_count == 1


@pytest.mark.django_db(transaction=True)
def test_beat_copies_the_daily_check_into_the_database():
    """django-celery-beat's scheduler stores the schedule in its tables (editable in the admin).
    Transactional: the scheduler closes database connections as a long-running process does."""
    from django_celery_beat.models import PeriodicTask
    from django_celery_beat.schedulers import DatabaseScheduler

    from config.celery_app import app

    DatabaseScheduler(app=app, lazy=False)
    task = PeriodicTask.objects.get(name="coverage-check-daily")
    assert task.task == "vault.coverage.tasks.coverage_check_all" and task.enabled
    assert (task.crontab.hour, task.crontab.minute) == ("1", "0")
