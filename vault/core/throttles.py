"""Who a request comes from, and rate limits that survive the loss of the shared cache.

`client_ip` is the one rule for the client's address (the token throttle and django-axes'
lockouts both use it): `REMOTE_ADDR` unless `VAULT_TRUSTED_PROXY_COUNT` proxies stand in front of
Vault, then the address the outermost trusted proxy saw, counted from the right of
`X-Forwarded-For` (every hop left of it was written by the client and is ignored).

`ScopedRateThrottle` keeps its counters in the default cache (Redis in production, shared by every
web process). While that cache does not answer, it counts in this process' memory at the same rate
instead of failing the request, and logs one WARNING per outage (docs/security.md, "Login and token
throttling")."""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import threading
import time

from django.conf import settings
from django.core.cache.backends.base import BaseCache
from django.core.cache.backends.locmem import LocMemCache
from redis.exceptions import RedisError
from rest_framework import throttling

log = logging.getLogger(__name__)

# What an unreachable cache raises: redis-py's errors, or the socket's own (another backend).
CACHE_ERRORS = (RedisError, OSError)


def client_ip(request) -> str | None:
    """The client's address: the socket's peer (`REMOTE_ADDR`), or, behind N trusted proxies, the
    N-th `X-Forwarded-For` entry from the right (DRF's NUM_PROXIES rule). An entry that is not an
    IP address (a malformed header) is not believed: the peer's address is used instead."""
    remote = request.META.get("REMOTE_ADDR")
    proxies = settings.VAULT_TRUSTED_PROXY_COUNT
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR")
    if proxies <= 0 or not forwarded:
        return remote
    hops = forwarded.split(",")
    candidate = hops[-min(proxies, len(hops))].strip()
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote


class _Outage:
    """Whether the shared cache is down, as seen by this process. After a failure the cache is not
    asked again for `retry_seconds` (a partitioned Redis would cost every login its timeout)."""

    retry_seconds = 5.0

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.since: float | None = None  # when this process saw the cache fail first
        self.failed_at = 0.0  # and last

    def skip_cache(self) -> bool:
        return self.since is not None and time.monotonic() - self.failed_at < self.retry_seconds

    def failed(self, exc: Exception) -> None:
        with self._lock:
            self.failed_at = time.monotonic()
            if self.since is not None:
                return
            self.since = self.failed_at
        log.warning("Throttle cache unavailable (%r): counting logins per process until it answers", exc)

    def recovered(self) -> None:
        if self.since is None:
            return
        with self._lock:
            if self.since is None:
                return
            seconds, self.since = time.monotonic() - self.since, None
        log.info("Throttle cache answers again after %.1f s: counting in the shared cache", seconds)


outage = _Outage()
# Counters while the shared cache is down: this process only, the same keys and rates.
local_cache = LocMemCache("vault-throttle-fallback", {"OPTIONS": {"MAX_ENTRIES": 10000}})


class _CacheFallback(throttling.SimpleRateThrottle):
    """Counts in the shared cache, or in this process' memory while that cache does not answer."""

    cache: BaseCache = throttling.SimpleRateThrottle.cache

    def allow_request(self, request, view) -> bool:
        if not outage.skip_cache():
            try:
                allowed = super().allow_request(request, view)
            except CACHE_ERRORS as exc:
                outage.failed(exc)
            else:
                outage.recovered()
                return allowed
        self.cache = local_cache  # this instance only: one per request
        return super().allow_request(request, view)


class ScopedRateThrottle(_CacheFallback, throttling.ScopedRateThrottle):
    """DRF's scoped throttle, keyed by `client_ip`, falling back to per-process counters."""

    def get_ident(self, request) -> str:
        return client_ip(request) or ""


class KeyRateThrottle(_CacheFallback):
    """A rate limit on any key, outside DRF's views (the password reset pages): `allowed()` counts
    one attempt of `key` under `scope` (a rate of DEFAULT_THROTTLE_RATES) and says whether it is
    within the rate. The key is hashed: an e-mail address is not written to the cache."""

    def __init__(self, scope: str, key: str):
        self.scope = scope
        self.ident = hashlib.sha256(key.encode()).hexdigest()  # DRF sets self.key to the cache key
        super().__init__()

    def get_cache_key(self, request, view) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.ident}

    def allowed(self) -> bool:
        return self.allow_request(None, None)
