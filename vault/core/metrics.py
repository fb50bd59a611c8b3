"""Prometheus metrics at `/metrics` (docs/operations.md).

A scrape gets django-prometheus's request, response and latency metrics and Vault's gauges,
computed at scrape time by the registered sources, one query each. Core contributes the outbox
gauges; an app contributes its own from its `AppConfig.ready()`:
`metrics_source_register("coverage", coverage_metrics)`. Sources live in a dict keyed by name
and are gathered into a registry built per scrape, so a second `ready()` (tests, the autoreloader)
replaces a source instead of raising "Duplicated timeseries in CollectorRegistry".

Access: from `VAULT_METRICS_ALLOWED_NETWORKS` (the socket's peer address, `REMOTE_ADDR`, never a
forwarded header) or with `Authorization: Bearer <VAULT_METRICS_TOKEN>`."""

from __future__ import annotations

import functools
import hmac
import ipaddress
import logging
import os
from collections.abc import Callable, Iterable, Iterator

from django.conf import settings
from django.http import HttpRequest
from prometheus_client import REGISTRY, CollectorRegistry
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector

from vault.core.health import outbox_backlog

log = logging.getLogger(__name__)

MetricsSource = Callable[[], Iterable[Metric]]
# A request with one of these came through a proxy: its REMOTE_ADDR is the proxy's, not the client's.
PROXY_HEADERS = ("HTTP_X_FORWARDED_FOR", "HTTP_FORWARDED", "HTTP_X_REAL_IP")


def outbox_metrics() -> Iterator[Metric]:
    backlog = outbox_backlog()
    yield GaugeMetricFamily(
        "vault_outbox_pending", "Outbox messages waiting to run (not done, not dead).", value=backlog.pending
    )
    yield GaugeMetricFamily(
        "vault_outbox_oldest_pending_age_seconds",
        "Seconds since the oldest message waiting to run was written; 0 when none waits.",
        value=backlog.oldest_age,
    )
    yield GaugeMetricFamily(
        "vault_outbox_dead", "Outbox messages given up on: fix the cause, then resend them.", value=backlog.dead
    )


_SOURCES: dict[str, MetricsSource] = {"outbox": outbox_metrics}


def metrics_source_register(name: str, source: MetricsSource) -> None:
    """Add `source` (metrics computed at each scrape) under `name`; the same name again replaces it."""
    _SOURCES[name] = source


class VaultCollector:
    """Vault's scrape-time gauges. A source that fails (the database is down) reads 0 in
    `vault_metrics_source_up` and is logged; the others and the process metrics are still served."""

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily(
            "vault_metrics_source_up", "1 when the source's metrics were computed at this scrape.", labels=["source"]
        )
        for name, source in list(_SOURCES.items()):
            try:
                metrics = list(source())
            except Exception:  # noqa: BLE001 - a scrape must not fail with one source
                log.exception("metrics source %s failed", name)
                up.add_metric([name], 0)
                continue
            up.add_metric([name], 1)
            yield from metrics
        yield up


class _Forward:
    """Another registry's metrics, gathered under the scrape's registry (their names are unique there)."""

    def __init__(self, registry: CollectorRegistry):
        self.registry = registry

    def collect(self) -> Iterable[Metric]:
        return self.registry.collect()


def scrape_registry() -> CollectorRegistry:
    """The registry one scrape reads: the process's metrics (every worker's under gunicorn with
    PROMETHEUS_MULTIPROC_DIR, as django-prometheus does) and Vault's gauges."""
    registry = CollectorRegistry(auto_describe=False)
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        MultiProcessCollector(registry)
    else:
        registry.register(_Forward(REGISTRY))
    registry.register(VaultCollector())
    return registry


@functools.lru_cache(maxsize=4)
def _networks(spec: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(item, strict=False) for item in spec)


def _address_allowed(request: HttpRequest) -> bool:
    if any(header in request.META for header in PROXY_HEADERS):
        return False
    try:
        address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped  # a dual-stack socket reports IPv4 peers as ::ffff:a.b.c.d
    return any(address in network for network in _networks(tuple(settings.VAULT_METRICS_ALLOWED_NETWORKS)))


def _token_valid(request: HttpRequest) -> bool:
    expected = settings.VAULT_METRICS_TOKEN
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if not expected or scheme.lower() != "bearer":
        return False  # no token configured: none is accepted, not even an empty one
    return hmac.compare_digest(given.strip().encode(), expected.encode())


def metrics_allowed(request: HttpRequest) -> bool:
    """Whether the caller may read the metrics: a direct connection from an allowed network
    (a proxied request never is: its peer is the proxy), or the bearer token."""
    return _token_valid(request) or _address_allowed(request)
