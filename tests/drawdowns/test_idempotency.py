"""Idempotency-Key on POST /api/v1/drawdown-requests/."""

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from tests.drawdowns.conftest import days
from tests.factories import LotFactory, MaterialFactory, OrganizationFactory, SiteFactory, UserFactory
from vault.drawdowns import services
from vault.drawdowns.idempotency import idempotency_keys_prune
from vault.drawdowns.models import DrawdownRequest, DrawdownTransition, IdempotencyKey

URL = "/api/v1/drawdown-requests/"


def _body(**overrides):
    return {
        "material": "NDPR-OX",
        "quantity": "25",
        "needed_by": str(days(10)),
        "replenish_by": str(days(60)),
        **overrides,
    }


def test_same_key_returns_the_first_response_and_creates_nothing_new(api, maker_a, agreement_a, stocked):
    client = api(maker_a)
    first = client.post(URL, _body(), format="json", HTTP_IDEMPOTENCY_KEY="order-1")
    second = client.post(URL, _body(), format="json", HTTP_IDEMPOTENCY_KEY="order-1")
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert second["Idempotent-Replayed"] == "true"
    assert DrawdownRequest.objects.count() == 1
    assert DrawdownTransition.objects.count() == 1
    assert IdempotencyKey.objects.count() == 1


def test_without_a_key_each_post_creates(api, maker_a, agreement_a, stocked):
    client = api(maker_a)
    client.post(URL, _body(), format="json")
    client.post(URL, _body(), format="json")
    assert DrawdownRequest.objects.count() == 2


def test_a_different_key_creates_another(api, maker_a, agreement_a, stocked):
    client = api(maker_a)
    a = client.post(URL, _body(), format="json", HTTP_IDEMPOTENCY_KEY="k-1").json()
    b = client.post(URL, _body(), format="json", HTTP_IDEMPOTENCY_KEY="k-2").json()
    assert a["id"] != b["id"]


def test_the_same_key_with_another_body_is_refused(api, maker_a, agreement_a, stocked):
    client = api(maker_a)
    client.post(URL, _body(), format="json", HTTP_IDEMPOTENCY_KEY="k")
    response = client.post(URL, _body(quantity="26"), format="json", HTTP_IDEMPOTENCY_KEY="k")
    assert response.status_code == 422
    assert response.json()["code"] == "idempotency_key_reused"
    assert "Idempotency-Key" in response.json()["errors"]
    assert DrawdownRequest.objects.count() == 1


def test_keys_are_per_user(api, maker_a, maker_b, agreement_a, agreement_b, stocked):
    a = api(maker_a).post(URL, _body(), format="json", HTTP_IDEMPOTENCY_KEY="same").json()
    b = api(maker_b).post(URL, _body(), format="json", HTTP_IDEMPOTENCY_KEY="same").json()
    assert (a["organization"], b["organization"]) == ("ORG-A", "ORG-B")
    assert DrawdownRequest.objects.count() == 2


def test_a_failed_request_does_not_burn_the_key(api, maker_a, agreement_a, stocked):
    client = api(maker_a)
    failed = client.post(URL, _body(quantity="9999"), format="json", HTTP_IDEMPOTENCY_KEY="retry")
    assert failed.status_code == 400
    assert IdempotencyKey.objects.count() == 0
    # The client fixes its body and retries with the same key: a new request, nothing replayed.
    fixed = client.post(URL, _body(quantity="9999"), format="json", HTTP_IDEMPOTENCY_KEY="retry")
    assert fixed.status_code == 400
    ok = client.post(URL, _body(), format="json", HTTP_IDEMPOTENCY_KEY="retry")
    assert ok.status_code == 201


@pytest.mark.parametrize("key", ["", "x" * 256])
def test_bad_keys_are_refused(api, maker_a, agreement_a, stocked, key):
    response = api(maker_a).post(URL, _body(), format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert response.status_code == 400
    assert DrawdownRequest.objects.count() == 0


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_posts_with_the_same_key_create_one_request():
    org = OrganizationFactory(code="ORG-C")
    maker = UserFactory(username="maker_c", role="manufacturer", organization=org)
    manager = UserFactory(username="boss", role="manager")
    material = MaterialFactory(code="NDPR-OX")
    LotFactory(material=material, site=SiteFactory(code="DEPOT-C"), initial_quantity="1000", by=manager)
    services.agreement_create(
        by=manager, organization=org, material=material, quantity=1000, locked_price=80, replenishment_days=90
    )
    start = threading.Barrier(10)

    def post(_):
        try:
            client = APIClient()
            client.force_authenticate(maker)
            start.wait(timeout=10)
            response = client.post(URL, _body(submit=True), format="json", HTTP_IDEMPOTENCY_KEY="once")
            return response.status_code, response.json()
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=10) as pool:
        results = list(pool.map(post, range(10)))
    assert {status for status, _ in results} == {201}, results
    bodies = [body for _, body in results]
    assert all(body == bodies[0] for body in bodies)
    assert DrawdownRequest.objects.count() == 1
    assert DrawdownTransition.objects.count() == 2
    assert IdempotencyKey.objects.count() == 1


# --- retention ------------------------------------------------------------------------------------


def _key_made(user, key: str, *, hours_ago: float, now) -> IdempotencyKey:
    record = IdempotencyKey.objects.create(
        user=user, key=key, fingerprint="f" * 64, response_status=201, response_body={}
    )
    IdempotencyKey.objects.filter(pk=record.pk).update(created_at=now - timedelta(hours=hours_ago))
    return record


def test_prune_forgets_keys_older_than_the_retention_in_batches_and_keeps_fresh_ones(maker_a, maker_b, settings):
    settings.VAULT_IDEMPOTENCY_RETENTION_HOURS = 48
    now = timezone.now()
    for n in range(5):
        _key_made(maker_a, f"old-{n}", hours_ago=48.01, now=now)
    _key_made(maker_b, "old-b", hours_ago=500, now=now)
    fresh = {
        _key_made(maker_a, "fresh", hours_ago=47.9, now=now).pk,
        _key_made(maker_b, "new", hours_ago=0, now=now).pk,
    }
    assert idempotency_keys_prune(now=now, batch_size=2) == 6
    assert set(IdempotencyKey.objects.values_list("pk", flat=True)) == fresh
    assert idempotency_keys_prune(now=now) == 0


def test_a_pruned_key_runs_again_as_a_new_request(api, maker_a, agreement_a, stocked):
    client = api(maker_a)
    first = client.post(URL, _body(), format="json", HTTP_IDEMPOTENCY_KEY="monthly-order").json()
    IdempotencyKey.objects.update(created_at=timezone.now() - timedelta(hours=49))
    assert idempotency_keys_prune() == 1
    again = client.post(URL, _body(), format="json", HTTP_IDEMPOTENCY_KEY="monthly-order")
    assert again.status_code == 201 and "Idempotent-Replayed" not in again
    assert again.json()["id"] != first["id"]


def test_the_prune_task_runs_hourly_on_the_beat_schedule(maker_a, settings):
    from vault.drawdowns.tasks import idempotency_keys_prune as task

    _key_made(maker_a, "old", hours_ago=72, now=timezone.now())
    entry = settings.CELERY_BEAT_SCHEDULE["idempotency-keys-prune-hourly"]
    assert entry["task"] == task.name == "vault.drawdowns.tasks.idempotency_keys_prune"
    assert task.apply().get() == 1
