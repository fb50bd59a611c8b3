"""Idempotency-Key on POST /api/v1/drawdown-requests/."""

import importlib
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from django.apps import apps as django_apps
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from rest_framework.parsers import JSONParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.test import APIClient, APIRequestFactory

from tests.drawdowns.conftest import days
from tests.factories import LotFactory, MaterialFactory, OrganizationFactory, SiteFactory, UserFactory
from vault.drawdowns import services
from vault.drawdowns.idempotency import idempotency_keys_prune, idempotent
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


def test_keys_are_per_organization(api, maker_a, maker_b, agreement_a, agreement_b, stocked):
    a = api(maker_a).post(URL, _body(), format="json", HTTP_IDEMPOTENCY_KEY="same").json()
    b = api(maker_b).post(URL, _body(), format="json", HTTP_IDEMPOTENCY_KEY="same").json()
    assert (a["organization"], b["organization"]) == ("ORG-A", "ORG-B")
    assert DrawdownRequest.objects.count() == 2
    assert set(IdempotencyKey.objects.values_list("organization__code", flat=True)) == {"ORG-A", "ORG-B"}


def test_the_users_of_one_organization_share_their_keys(api, maker_a, org_a, agreement_a, stocked):
    """Two clerks of one participant retrying the same order create one request."""
    clerk = UserFactory(username="clerk_a", role="manufacturer", organization=org_a)
    first = api(maker_a).post(URL, _body(), format="json", HTTP_IDEMPOTENCY_KEY="po-77")
    second = api(clerk).post(URL, _body(), format="json", HTTP_IDEMPOTENCY_KEY="po-77")
    assert first.status_code == second.status_code == 201
    assert second.json() == first.json()
    assert second["Idempotent-Replayed"] == "true"
    assert DrawdownRequest.objects.count() == 1
    record = IdempotencyKey.objects.get()
    assert (record.organization_id, record.user_id) == (org_a.pk, maker_a.pk)


def test_another_user_of_the_organization_with_another_body_is_refused(api, maker_a, org_a, agreement_a, stocked):
    clerk = UserFactory(username="clerk_a", role="manufacturer", organization=org_a)
    api(maker_a).post(URL, _body(), format="json", HTTP_IDEMPOTENCY_KEY="po-78")
    response = api(clerk).post(URL, _body(quantity="26"), format="json", HTTP_IDEMPOTENCY_KEY="po-78")
    assert response.status_code == 422
    assert response.json()["code"] == "idempotency_key_reused"
    assert DrawdownRequest.objects.count() == 1


def _send(user, key: str, body: dict, handler):
    """`idempotent()` as a view calls it, for users the drawdown API refuses (staff)."""
    raw = APIRequestFactory().post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY=key)
    request = Request(raw, parsers=[JSONParser()])
    request.user = user
    return idempotent(request, handler)


def test_a_user_of_no_organization_has_keys_of_their_own(manager, finance):
    calls = []

    def handler():
        calls.append(1)
        return Response({"call": len(calls)}, status=201)

    assert _send(manager, "k", {"a": 1}, handler).data == {"call": 1}
    assert _send(manager, "k", {"a": 1}, handler).data == {"call": 1}  # replayed
    assert _send(finance, "k", {"a": 1}, handler).data == {"call": 2}  # another user: runs
    assert len(calls) == 2
    assert list(IdempotencyKey.objects.order_by("pk").values_list("organization", "user")) == [
        (None, manager.pk),
        (None, finance.pk),
    ]


def test_the_database_holds_one_key_per_organization_and_one_per_staff_user(maker_a, org_a, manager):
    clerk = UserFactory(username="clerk_a", role="manufacturer", organization=org_a)
    row = {"key": "k", "fingerprint": "f" * 64, "response_status": 201, "response_body": {}}
    IdempotencyKey.objects.create(user=maker_a, organization=org_a, **row)
    IdempotencyKey.objects.create(user=manager, **row)
    for duplicate in ({"user": clerk, "organization": org_a}, {"user": manager}):
        with pytest.raises(IntegrityError), transaction.atomic():
            IdempotencyKey.objects.create(**duplicate, **row)


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


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_posts_by_users_of_one_organization_with_one_key_create_one_request():
    """Ten posts by five clerks of one participant, with one key and two bodies: one request; every
    post of the winner's body gets its response, every post of the other body a 422."""
    org = OrganizationFactory(code="ORG-C")
    clerks = [UserFactory(username=f"clerk_{n}", role="manufacturer", organization=org) for n in range(5)]
    manager = UserFactory(username="boss", role="manager")
    material = MaterialFactory(code="NDPR-OX")
    LotFactory(material=material, site=SiteFactory(code="DEPOT-C"), initial_quantity="1000", by=manager)
    services.agreement_create(
        by=manager, organization=org, material=material, quantity=1000, locked_price=80, replenishment_days=90
    )
    start = threading.Barrier(10)

    def post(n):
        quantity = "25" if n % 2 else "26"
        try:
            client = APIClient()
            client.force_authenticate(clerks[n % 5])
            start.wait(timeout=10)
            response = client.post(URL, _body(quantity=quantity), format="json", HTTP_IDEMPOTENCY_KEY="po-1")
            return quantity, response.status_code, response.json()
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=10) as pool:
        results = list(pool.map(post, range(10)))
    created = DrawdownRequest.objects.get()  # exactly one
    winner = f"{created.quantity:.3f}".rstrip("0").rstrip(".")
    for quantity, status, body in results:
        if quantity == winner:
            assert (status, body["id"]) == (201, created.pk), results
        else:
            assert (status, body["code"]) == (422, "idempotency_key_reused"), results
    record = IdempotencyKey.objects.get()
    assert record.organization_id == org.pk


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


# --- the migration to keys per organization -------------------------------------------------------

MIGRATION = importlib.import_module("vault.drawdowns.migrations.0003_idempotency_key_per_organization")


def test_the_migration_gives_each_key_its_users_organization_the_first_one_where_two_collide(
    maker_a, maker_b, org_a, org_b, manager
):
    clerk = UserFactory(username="clerk_a", role="manufacturer", organization=org_a)
    row = {"fingerprint": "f" * 64, "response_status": 201, "response_body": {}}
    first = IdempotencyKey.objects.create(user=maker_a, key="k", **row)  # as before the migration:
    second = IdempotencyKey.objects.create(user=clerk, key="k", **row)  # no organization yet
    other = IdempotencyKey.objects.create(user=clerk, key="j", **row)
    elsewhere = IdempotencyKey.objects.create(user=maker_b, key="k", **row)
    staff = IdempotencyKey.objects.create(user=manager, key="k", **row)
    MIGRATION.scope_keys_to_organizations(django_apps, None)
    scopes = dict(IdempotencyKey.objects.values_list("pk", "organization"))
    assert scopes == {
        first.pk: org_a.pk,
        second.pk: None,  # the clerk's own, as it was made: replays of org_a's "k" get the first
        other.pk: org_a.pk,
        elsewhere.pk: org_b.pk,
        staff.pk: None,
    }


def test_the_migration_backwards_keeps_one_key_per_user(maker_a, org_a, org_b):
    row = {"key": "k", "fingerprint": "f" * 64, "response_status": 201, "response_body": {}}
    kept = IdempotencyKey.objects.create(user=maker_a, organization=org_a, **row)
    IdempotencyKey.objects.create(user=maker_a, organization=org_b, **row)  # sent again after moving
    MIGRATION.keep_one_key_per_user(django_apps, None)
    assert list(IdempotencyKey.objects.values_list("pk", flat=True)) == [kept.pk]
