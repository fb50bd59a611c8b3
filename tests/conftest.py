import os
from decimal import Decimal

import pytest
from django.db import connection
from rest_framework.test import APIClient

from tests.clock import TEST_TODAY, travel_to
from tests.factories import LotFactory, MaterialFactory, OrganizationFactory, SiteFactory, UserFactory
from vault.drawdowns import services as drawdown_services


def pytest_configure(config):
    _flush_append_only_tables_too()
    config.addinivalue_line(
        "markers",
        "real_clock: keep the real clock (the test starts subprocesses that cannot travel; it must not "
        "depend on the date some other way)",
    )


def _flush_append_only_tables_too() -> None:
    """Between transactional tests Django empties every table with one TRUNCATE; the append-only
    tables refuse it (`vault.core.db.forbid_truncate`) unless the transaction sets
    `vault.truncate_append_only`, which this flush, and only it, does."""
    from django.db.backends.postgresql.operations import DatabaseOperations

    original = DatabaseOperations.sql_flush

    def sql_flush(self, style, tables, *, reset_sequences=False, allow_cascade=False):
        statements = original(self, style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade)
        return ["SET LOCAL vault.truncate_append_only = 'on'", *statements] if statements else statements

    DatabaseOperations.sql_flush = sql_flush


def pytest_report_header(config):
    return f"Vault test day (VAULT_TEST_TODAY): {TEST_TODAY or 'the real clock'}"


# VAULT_TEST_EXISTING_DATABASE=1: the tests run in DATABASE_URL's database as it is (migrated
# beforehand), connected as DATABASE_URL's role, each inside a transaction rolled back at its end;
# no test database is created or dropped. tests/hardening/test_db_role.py runs tests this way as
# the application role, which may not create databases. Tests that would flush the database
# (transactional ones, live servers: a flush is a TRUNCATE of every table) are deselected.
EXISTING_DATABASE = os.environ.get("VAULT_TEST_EXISTING_DATABASE") == "1"
FLUSHING_FIXTURES = {"transactional_db", "live_server", "django_db_reset_sequences", "django_db_serialized_rollback"}


def pytest_collection_modifyitems(config, items):
    kept, flushing = [], []
    for item in items:
        if item.get_closest_marker("postgres"):
            item.fixturenames.append("_require_postgres")
        marker = item.get_closest_marker("django_db")
        transactional = marker is not None and (
            marker.kwargs.get("transaction") or marker.kwargs.get("reset_sequences") or (marker.args and marker.args[0])
        )
        (flushing if transactional or FLUSHING_FIXTURES & set(item.fixturenames) else kept).append(item)
    if EXISTING_DATABASE and flushing:
        config.hook.pytest_deselected(items=flushing)
        items[:] = kept


if EXISTING_DATABASE:

    @pytest.fixture(scope="session")
    def django_db_setup():
        """The database of DATABASE_URL, as it is: nothing created, migrated or dropped."""


def postgres_required() -> None:
    """Fail under CI when the database is not PostgreSQL (a skip must never turn CI green), skip
    elsewhere. For fixtures wider than a test; tests are marked `postgres` instead."""
    if connection.vendor != "postgresql":
        message = "needs PostgreSQL: set DATABASE_URL=postgres://..."
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture
def _require_postgres(request):
    """Tests marked `postgres` need real PostgreSQL connections (see `postgres_required`)."""
    postgres_required()


@pytest.fixture(autouse=True)
def _business_day(request):
    """Every test runs at 10:00 on TEST_TODAY in Vault's time zone, the clock ticking (see
    tests/clock.py), unless it is marked `real_clock`."""
    if TEST_TODAY is None or request.node.get_closest_marker("real_clock"):
        yield None
        return
    with travel_to(TEST_TODAY) as traveller:
        yield traveller


@pytest.fixture(scope="session", autouse=True)
def _end_stray_sessions(django_db_setup, django_db_blocker):
    """Threads and subprocesses of some tests (live servers, workers) can still hold a database
    session for a moment when the run ends; end them, so that the test database is dropped."""
    yield
    if connection.vendor != "postgresql" or EXISTING_DATABASE:  # a database of others: end nobody's session
        return
    with django_db_blocker.unblock():
        connection.close()  # a test that kills sessions may have ended this one too: start afresh
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        connection.close()


@pytest.fixture
def org_a(db):
    return OrganizationFactory(code="ORG-A", name="Org A Motors")


@pytest.fixture
def org_b(db):
    return OrganizationFactory(code="ORG-B", name="Org B Aero")


@pytest.fixture
def manager(db):
    return UserFactory(username="manager1", role="manager")


@pytest.fixture
def finance(db):
    return UserFactory(username="finance1", role="finance")


@pytest.fixture
def auditor(db):
    return UserFactory(username="auditor1", role="auditor")


@pytest.fixture
def maker_a(org_a):
    return UserFactory(username="maker_a", role="manufacturer", organization=org_a)


@pytest.fixture
def maker_b(org_b):
    return UserFactory(username="maker_b", role="manufacturer", organization=org_b)


def _client(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


@pytest.fixture
def api():
    """api(user) -> an APIClient authenticated as `user` (anonymous with None)."""
    return _client


@pytest.fixture
def material(db):
    return MaterialFactory(code="NDPR-OX", name="NdPr oxide")


@pytest.fixture
def site(db):
    return SiteFactory(code="DEPOT-A", capacity_kg=None)


@pytest.fixture
def other_site(db):
    return SiteFactory(code="DEPOT-B", capacity_kg=None)


@pytest.fixture
def lot(material, site, manager):
    """A lot of 1,000 kg at 50 USD/kg, received through the service."""
    return LotFactory(material=material, site=site, initial_quantity="1000", by=manager)


@pytest.fixture
def agreement_a(org_a, material, manager):
    """ORG-A: 500 kg of NDPR-OX at 80 USD/kg, 90-day window, 5% premium, 1,000 USD fee."""
    return drawdown_services.agreement_create(
        by=manager,
        organization=org_a,
        material=material,
        quantity=Decimal("500"),
        locked_price=Decimal("80"),
        replenishment_days=90,
        premium_pct=Decimal("5"),
        upfront_fee=Decimal("1000"),
    )


@pytest.fixture
def agreement_b(org_b, material, manager):
    return drawdown_services.agreement_create(
        by=manager,
        organization=org_b,
        material=material,
        quantity=Decimal("300"),
        locked_price=Decimal("90"),
        replenishment_days=60,
        premium_pct=Decimal("2.5"),
    )
