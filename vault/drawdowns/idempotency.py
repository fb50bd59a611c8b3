"""`Idempotency-Key` for POSTs that create something.

A key belongs to the sender's organization: the users of one participant share their keys (two
clerks retrying one order create one request), and a user of no organization (staff) has keys of
their own. The key row is inserted in the same transaction as what the POST creates, before it: a
second request with the same key in the same scope blocks on the unique index until the first
commits, then finds the stored response and returns it; if the first failed and rolled back, the
second runs as if it were first. A different body (or path) with the same key is refused (422).

A key is remembered for `VAULT_IDEMPOTENCY_RETENTION_HOURS` after its first request
(`idempotency_keys_prune`, hourly): a retry within that window replays, a reuse after it runs
again as a new request."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from vault.core.errors import InvalidInput
from vault.core.retention import delete_in_batches
from vault.drawdowns.errors import IdempotencyKeyReused
from vault.drawdowns.models import IdempotencyKey

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255


def request_fingerprint(request) -> str:
    body = json.dumps(request.data, sort_keys=True, default=str, separators=(",", ":"))
    raw = f"{request.method} {request.path}\n{body}"
    return hashlib.sha256(raw.encode()).hexdigest()


def _scope(user) -> dict:
    """The lookup of a key's owner: its organization, else the user (the partial unique indexes)."""
    if user.organization_id is not None:
        return {"organization_id": user.organization_id}
    return {"organization__isnull": True, "user": user}


def _replay(record: IdempotencyKey, fingerprint: str) -> Response:
    if record.fingerprint != fingerprint:
        raise IdempotencyKeyReused(
            "This Idempotency-Key was already used with a different request.", field="Idempotency-Key"
        )
    response = Response(record.response_body, status=record.response_status)
    response["Idempotent-Replayed"] = "true"
    return response


def idempotent(request, handler: Callable[[], Response]) -> Response:
    """Run `handler` once per (organization, Idempotency-Key), or (user, Idempotency-Key) for a
    user of no organization; without the header just run it."""
    key = request.headers.get(HEADER)
    if key is None:
        return handler()
    key = key.strip()
    if not key or len(key) > MAX_KEY_LENGTH:
        raise InvalidInput(
            f"An Idempotency-Key has 1 to {MAX_KEY_LENGTH} characters.", field=HEADER, code="idempotency_key_length"
        )
    fingerprint = request_fingerprint(request)
    scope = _scope(request.user)
    existing = IdempotencyKey.objects.filter(**scope, key=key).first()
    if existing is not None:
        return _replay(existing, fingerprint)
    with transaction.atomic():
        try:
            with transaction.atomic():
                # Waits here for a concurrent holder of the same key to commit or roll back.
                record = IdempotencyKey.objects.create(
                    user=request.user,
                    organization_id=request.user.organization_id,
                    key=key,
                    fingerprint=fingerprint,
                    response_status=0,
                    response_body={},
                )
        except IntegrityError:
            record = None
        if record is None:
            return _replay(IdempotencyKey.objects.get(**scope, key=key), fingerprint)
        response = handler()
        record.response_status = response.status_code
        record.response_body = json.loads(JSONRenderer().render(response.data))
        record.save(update_fields=["response_status", "response_body"])
    return response


def idempotency_keys_prune(*, now: datetime | None = None, batch_size: int = 1000) -> int:
    """Forget the keys first used more than `VAULT_IDEMPOTENCY_RETENTION_HOURS` ago (their
    `created_at`, set when the request's transaction inserted the row). Returns the number deleted."""
    cutoff = (now or timezone.now()) - timedelta(hours=settings.VAULT_IDEMPOTENCY_RETENTION_HOURS)
    return delete_in_batches(IdempotencyKey.objects.filter(created_at__lt=cutoff), batch_size=batch_size)
