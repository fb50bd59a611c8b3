import os
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from vault.coverage import services
from vault.coverage.domain import month_start, next_month

REDIS_URL = os.environ.get("VAULT_TEST_REDIS_URL", "redis://127.0.0.1:6379/14")


HERE = Path(__file__).parent


def pytest_collection_modifyitems(config, items):
    for item in items:
        if HERE not in item.path.parents:
            continue  # this hook sees the whole session; the fixture below exists only here
        if item.get_closest_marker("redis") and "_require_redis" not in item.fixturenames:
            item.fixturenames.append("_require_redis")


@pytest.fixture
def _require_redis():
    """Tests marked `redis` need a Redis server: they fail under CI when it is unreachable (a
    skip must never turn CI green) and skip elsewhere."""
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.exceptions.RedisError as exc:
        message = f"needs Redis at {REDIS_URL}: {exc}"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture
def chart_of_accounts(db):
    """The ledger's system accounts (TRUNCATE in transactional tests wipes the data migration's)."""
    from vault.ledger.chart import SYSTEM_ACCOUNTS
    from vault.ledger.models import Account

    for code, name, kind in SYSTEM_ACCOUNTS:
        Account.objects.get_or_create(code=code, defaults={"name": name, "type": kind})


def months_from(start: date, count: int) -> list[date]:
    months, month = [], month_start(start)
    for _ in range(count):
        months.append(month)
        month = next_month(month)
    return months


@pytest.fixture
def set_forecast(manager):
    """set_forecast(material, per_month="300", months=24, start=today, organization=None) uploads a
    flat forecast (a new version replacing the material's current one)."""
    from django.utils import timezone

    def make(material, per_month="300", months=24, start=None, organization=None, by=None):
        start = start or timezone.localdate()
        rows = [
            services.ForecastRow(
                material_id=material.pk,
                organization_id=organization.pk if organization else None,
                month=month,
                quantity=Decimal(per_month),
            )
            for month in months_from(start, months)
        ]
        return services.forecast_upload(rows=rows, by=by or manager, source="test")

    return make
