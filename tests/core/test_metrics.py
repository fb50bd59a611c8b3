"""/metrics: who may scrape it, and that Vault's gauges say what an operator alerts on."""

import os
import subprocess
import sys
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.apps import apps
from django.test import override_settings
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from tests.factories import LotFactory, MaterialFactory
from tests.financing.factories import disbursed_tranche, make_facility, make_private_capital
from vault.core import metrics
from vault.core.models import OutboxMessage
from vault.coverage import services as coverage
from vault.coverage.domain import month_start, next_month
from vault.financing import services as financing

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "scrape-token-0123456789abcdef"  # noqa: S105 - a test value
OUTSIDE = "203.0.113.9"  # not in the allowed networks


def scrape(client, **extra) -> dict[tuple[str, tuple], float]:
    """{(sample name, sorted labels): value} of a successful scrape."""
    response = client.get("/metrics", **extra)
    assert response.status_code == 200, response.content
    samples = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def vault_samples(samples: dict, name: str) -> dict[tuple, float]:
    return {labels: value for (sample, labels), value in samples.items() if sample == name}


def outbox_message(*, age_seconds: float, state: str = "pending") -> None:
    now = timezone.now()
    message = OutboxMessage.objects.create(task="vault.core.tests.nothing")
    OutboxMessage.objects.filter(pk=message.pk).update(
        created_at=now - timedelta(seconds=age_seconds),
        done_at=now if state == "done" else None,
        dead_at=now if state == "dead" else None,
    )


@pytest.fixture
def breach(material, site, manager):
    """NDPR-OX: 1,000 kg against 9,000 kg a month (about 3 days, target 60): an open breach.
    DY-OX: stock and no demand: no alert."""
    dy = MaterialFactory(code="DY-OX", name="Dysprosium oxide")
    LotFactory(material=material, site=site, initial_quantity="1000", by=manager)
    LotFactory(material=dy, site=site, initial_quantity="1000", by=manager)
    month, rows = month_start(timezone.localdate()), []
    for _ in range(6):
        rows.append(
            coverage.ForecastRow(material_id=material.pk, organization_id=None, month=month, quantity=Decimal("9000"))
        )
        month = next_month(month)
    coverage.forecast_upload(rows=rows, by=manager, source="test")
    coverage.coverage_check()
    return material


@pytest.fixture
def accruals(finance):
    """LOAN-A accrued through 2026-03-09, LOAN-B through 2026-03-05; PC-T (private capital) never."""
    for code, through in (("LOAN-A", date(2026, 3, 9)), ("LOAN-B", date(2026, 3, 5))):
        loan = make_facility(by=finance, code=code)
        disbursed_tranche(facility=loan, amount="1000000.00", on=date(2026, 3, 2), by=finance)
        financing.interest_accrue(facility=loan, through=through)
    make_private_capital(by=finance, code="PC-T")


def day_start(day: date) -> float:
    return datetime.combine(day, time(), tzinfo=timezone.get_default_timezone()).timestamp()


# --- access ---------------------------------------------------------------------------------------


def test_refused_from_a_network_not_allowed_without_the_token(client):
    response = client.get("/metrics", REMOTE_ADDR=OUTSIDE)

    assert response.status_code == 403
    assert b"vault_" not in response.content


@override_settings(VAULT_METRICS_TOKEN=TOKEN)
def test_the_bearer_token_opens_it_from_anywhere_and_nothing_else_does(client):
    assert client.get("/metrics", REMOTE_ADDR=OUTSIDE, HTTP_AUTHORIZATION=f"Bearer {TOKEN}").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR=OUTSIDE, HTTP_AUTHORIZATION=f"bearer {TOKEN}").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR=OUTSIDE, HTTP_AUTHORIZATION=f"Bearer {TOKEN}x").status_code == 403
    assert client.get("/metrics", REMOTE_ADDR=OUTSIDE, HTTP_AUTHORIZATION=f"Token {TOKEN}").status_code == 403
    assert client.get("/metrics", REMOTE_ADDR=OUTSIDE, HTTP_AUTHORIZATION="Bearer ").status_code == 403


@override_settings(VAULT_METRICS_TOKEN="")
def test_no_token_configured_accepts_no_token_not_even_an_empty_one(client):
    assert client.get("/metrics", REMOTE_ADDR=OUTSIDE, HTTP_AUTHORIZATION="Bearer ").status_code == 403
    assert client.get("/metrics", REMOTE_ADDR=OUTSIDE, HTTP_AUTHORIZATION="Bearer").status_code == 403


def test_loopback_is_allowed_by_default(client):
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="::1").status_code == 200


@override_settings(VAULT_METRICS_ALLOWED_NETWORKS=["10.0.0.0/8", "fd00::/8"])
@pytest.mark.parametrize(
    ("address", "status"),
    [
        ("10.20.30.40", 200),
        ("::ffff:10.20.30.40", 200),  # an IPv4 peer on a dual-stack socket
        ("fd00::5", 200),
        ("11.0.0.1", 403),
        ("127.0.0.1", 403),  # the networks setting replaces the default
        ("not-an-address", 403),
    ],
)
def test_the_allowed_networks_are_configurable(client, address, status):
    assert client.get("/metrics", REMOTE_ADDR=address).status_code == status


def test_a_malformed_network_stops_the_process_at_start_up():
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PYTEST"))}
    environment.update(
        DJANGO_SETTINGS_MODULE="config.settings.test", VAULT_METRICS_ALLOWED_NETWORKS="10.0.0.0/8,10.0.0.0.1"
    )
    result = subprocess.run(  # noqa: S603 - our own manage.py
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120
    )

    assert result.returncode != 0
    assert "'10.0.0.0.1' does not appear to be an IPv4 or IPv6 network" in result.stderr


def test_forwarded_headers_never_grant_network_access(client):
    spoofed = client.get("/metrics", REMOTE_ADDR=OUTSIDE, HTTP_X_FORWARDED_FOR="127.0.0.1")
    # Through a reverse proxy on the same machine the peer is 127.0.0.1 whoever the client is.
    proxied = client.get("/metrics", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR=OUTSIDE)

    assert spoofed.status_code == proxied.status_code == 403


@override_settings(VAULT_METRICS_TOKEN=TOKEN)
def test_a_proxied_scrape_with_the_token_is_answered(client):
    assert client.get("/metrics", HTTP_X_FORWARDED_FOR=OUTSIDE, HTTP_AUTHORIZATION=f"Bearer {TOKEN}").status_code == 200


def test_a_scrape_by_pod_ip_is_answered_and_never_cached(client):
    response = client.get("/metrics", HTTP_HOST="10.0.0.7:8000")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=")
    assert "no-store" in response["Cache-Control"]


@override_settings(SECURE_SSL_REDIRECT=True)
def test_a_scrape_over_plain_http_is_not_redirected(client):
    assert client.get("/metrics").status_code == 200


def test_openmetrics_is_negotiated(client):
    response = client.get("/metrics", HTTP_ACCEPT="application/openmetrics-text; version=1.0.0")

    assert response["Content-Type"].startswith("application/openmetrics-text")
    assert response.content.endswith(b"# EOF\n")


# --- the gauges -----------------------------------------------------------------------------------


def test_outbox_gauges_count_what_waits_and_what_is_dead_and_age_the_oldest(client):
    samples = scrape(client)
    assert vault_samples(samples, "vault_outbox_pending") == {(): 0}
    assert vault_samples(samples, "vault_outbox_oldest_pending_age_seconds") == {(): 0}
    assert vault_samples(samples, "vault_outbox_dead") == {(): 0}

    outbox_message(age_seconds=120)
    outbox_message(age_seconds=10)
    outbox_message(age_seconds=7200, state="done")
    outbox_message(age_seconds=3600, state="dead")
    samples = scrape(client)

    assert vault_samples(samples, "vault_outbox_pending") == {(): 2}
    assert 120 <= samples[("vault_outbox_oldest_pending_age_seconds", ())] < 130
    assert vault_samples(samples, "vault_outbox_dead") == {(): 1}


def test_open_breaches_per_material(client, breach):
    samples = scrape(client)

    assert vault_samples(samples, "vault_coverage_open_breaches") == {
        (("material", "DY-OX"),): 0,
        (("material", "NDPR-OX"),): 1,
    }


def test_last_accrued_day_per_loan(client, accruals):
    samples = scrape(client)

    assert vault_samples(samples, "vault_interest_last_accrued_day") == {
        (("facility", "LOAN-A"),): day_start(date(2026, 3, 9)),
        (("facility", "LOAN-B"),): day_start(date(2026, 3, 5)),
    }


def test_a_scrape_costs_one_query_per_source_whatever_the_data(client, breach, accruals, django_assert_num_queries):
    outbox_message(age_seconds=30)
    with django_assert_num_queries(3):  # outbox, coverage, financing
        samples = scrape(client)

    assert vault_samples(samples, "vault_metrics_source_up") == {
        (("source", "outbox"),): 1,
        (("source", "coverage"),): 1,
        (("source", "financing"),): 1,
    }


def test_a_failing_source_reads_0_and_the_rest_is_still_served(client, monkeypatch, caplog):
    def broken():
        raise RuntimeError("database is down")

    monkeypatch.setitem(metrics._SOURCES, "coverage", broken)  # noqa: SLF001
    samples = scrape(client)

    assert samples[("vault_metrics_source_up", (("source", "coverage"),))] == 0
    assert samples[("vault_metrics_source_up", (("source", "outbox"),))] == 1
    assert ("vault_outbox_pending", ()) in samples
    assert "metrics source coverage failed" in caplog.text


def test_registering_the_sources_again_duplicates_nothing(client, breach):
    before = dict(metrics._SOURCES)  # noqa: SLF001
    apps.get_app_config("coverage").ready()  # as a second import (autoreloader, tests) does
    apps.get_app_config("financing").ready()

    assert dict(metrics._SOURCES).keys() == before.keys()  # noqa: SLF001
    assert vault_samples(scrape(client), "vault_coverage_open_breaches")[(("material", "NDPR-OX"),)] == 1


def test_request_metrics_of_django_prometheus_are_served(client):
    client.get("/admin/login/")

    samples = scrape(client)

    assert any(name == "django_http_requests_total_by_view_transport_method_total" for name, _ in samples)
    assert any(name == "django_http_requests_before_middlewares_total" for name, _ in samples)


def test_under_gunicorn_metrics_add_up_every_worker(tmp_path):
    """Two worker processes: whichever answers the scrape, it reports the requests of both."""
    import re
    import urllib.request

    from tests.hardening.processes import free_port, wait_for

    root = Path(__file__).resolve().parents[2]
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "DJANGO_", "PROMETHEUS_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.local",
        SQLITE_PATH=str(tmp_path / "db.sqlite3"),
        VAULT_VAR_DIR=str(tmp_path / "var"),
        WEB_CONCURRENCY="2",
        GUNICORN_THREADS="1",
        GUNICORN_BIND=f"127.0.0.1:{port}",
    )
    server = subprocess.Popen(  # noqa: S603 - our own config
        [sys.executable, "-m", "gunicorn", "-c", "config/gunicorn.conf.py", "config.wsgi"],
        cwd=root,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )

    def get(path: str) -> str:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as response:  # noqa: S310
            return response.read().decode()

    def up() -> bool:
        try:
            return bool(get("/healthz"))
        except OSError:
            return False

    try:
        wait_for(up, timeout=60, what="gunicorn")
        for _ in range(40):
            get("/healthz")
        totals = []
        for _ in range(6):
            text = get("/metrics")
            (value,) = re.findall(r"^django_http_requests_before_middlewares_total (\S+)$", text, re.M)
            totals.append(float(value))
        assert all(total >= 41 for total in totals), totals  # one worker alone has about half
        assert len(list((tmp_path / "var" / "prometheus").glob("gunicorn-*/*.db"))) >= 2  # a file per worker
    finally:
        server.terminate()
        server.wait(timeout=30)
