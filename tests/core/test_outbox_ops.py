"""The outbox in operation: the dead state, the request id it carries to the task's logs, the
admin's list and "Resend", and the pruning of old messages."""

from datetime import timedelta

import pytest
import structlog
from django.contrib.admin.models import LogEntry
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from config.celery_app import app
from vault.accounts.services import roles_sync
from vault.core import outbox
from vault.core.models import OutboxMessage
from vault.core.outbox import outbox_drain, outbox_enqueue, outbox_prune, outbox_resend, outbox_task

State = OutboxMessage.State
PROBE = "tests.core.test_outbox_ops.probe"
FAILING = "tests.core.test_outbox_ops.failing"
RUNS: list[dict] = []


@outbox_task()
def probe(**kwargs) -> int:
    """A harmless outbox task: records its kwargs and the log context it runs with."""
    RUNS.append({"kwargs": kwargs, "context": dict(structlog.contextvars.get_contextvars())})
    return len(RUNS)


@outbox_task()
def failing(**kwargs) -> None:
    raise ValueError("the mail server said no")


@pytest.fixture(autouse=True)
def _runs():
    RUNS.clear()
    structlog.contextvars.clear_contextvars()  # what an earlier test's request left bound
    yield
    RUNS.clear()


@pytest.fixture
def sent(monkeypatch):
    """Records what reaches the broker (task, outbox id); `sent.fail = True` makes it refuse."""

    class Broker(list):
        fail = False

        def send_task(self, name, kwargs=None, **options):
            if self.fail:
                raise OSError("Connection refused")
            self.append((name, kwargs["outbox_id"]))

    broker = Broker()
    monkeypatch.setattr(app, "send_task", broker.send_task)
    monkeypatch.setitem(app.conf, "task_always_eager", False)
    return broker


def message(*, task: str = PROBE, kwargs: dict | None = None, **fields) -> OutboxMessage:
    return OutboxMessage.objects.create(task=task, kwargs=kwargs or {"n": 1}, **fields)


def ago(**delta):
    return timezone.now() - timedelta(**delta)


# --- state --------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_state_property_and_state_filter_agree():
    now = timezone.now()
    rows = {
        State.PENDING: message(),
        State.SENT: message(sent_at=now),
        State.DONE: message(sent_at=now, done_at=now, dead_at=now),  # done wins, even after dying
        State.DEAD: message(sent_at=now, dead_at=now),
    }
    for state, row in rows.items():
        assert row.state == state
        assert list(OutboxMessage.objects.in_state(state)) == [row]


# --- dead state -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_message_out_of_attempts_goes_dead_is_logged_and_never_resent(sent, settings, caplog):
    settings.VAULT_OUTBOX_MAX_ATTEMPTS = 3
    tired = message(sent_at=ago(minutes=5), attempts=3, last_error="ValueError: boom", request_id="req-7")
    fresh = message(sent_at=ago(minutes=5), attempts=2)
    with caplog.at_level("ERROR", logger="vault.core.outbox"):
        assert outbox_drain() == 1
    assert sent == [(PROBE, fresh.pk)]
    tired.refresh_from_db()
    assert tired.state == State.DEAD and tired.attempts == 3
    [record] = [r for r in caplog.records if r.levelname == "ERROR"]
    assert f"outbox {tired.pk} ({PROBE}) is dead" in record.getMessage() and "ValueError: boom" in record.getMessage()

    # The fresh one used its last attempt: when due again it dies too; the dead one stays dead.
    OutboxMessage.objects.filter(pk=fresh.pk).update(sent_at=ago(minutes=5))
    assert outbox_drain() == 0
    assert sent == [(PROBE, fresh.pk)]
    assert set(OutboxMessage.objects.in_state(State.DEAD).values_list("pk", flat=True)) == {tired.pk, fresh.pk}


@pytest.mark.django_db
def test_a_message_just_sent_on_its_last_attempt_has_time_to_finish(sent, settings):
    settings.VAULT_OUTBOX_MAX_ATTEMPTS = 3
    running = message(sent_at=ago(seconds=30), attempts=3)
    done = message(sent_at=ago(hours=1), done_at=ago(minutes=50), attempts=5)
    assert outbox_drain() == 0
    assert sent == []
    running.refresh_from_db()
    done.refresh_from_db()
    assert running.state == State.SENT and done.state == State.DONE


@pytest.mark.django_db
def test_the_default_gives_a_message_ten_attempts(sent):
    nine, ten = message(sent_at=ago(minutes=5), attempts=9), message(sent_at=ago(minutes=5), attempts=10)
    outbox_drain()
    assert sent == [(PROBE, nine.pk)]
    ten.refresh_from_db()
    assert ten.state == State.DEAD


@pytest.mark.django_db
def test_the_drain_stops_at_the_first_broker_failure(sent):
    first, second = message(), message()
    sent.fail = True
    assert outbox_drain() == 0
    attempts = dict(OutboxMessage.objects.values_list("pk", "attempts"))
    assert attempts == {first.pk: 1, second.pk: 0}, "an outage costs one attempt of one message"
    sent.fail = False
    assert outbox_drain() == 2
    assert sent == [(PROBE, first.pk), (PROBE, second.pk)]


@pytest.mark.django_db
def test_a_failing_body_leaves_its_error_for_the_admin():
    row = message(task=FAILING)
    with pytest.raises(ValueError, match="mail server"):
        failing.apply(kwargs={"outbox_id": row.pk}, throw=True)
    row.refresh_from_db()
    assert row.done_at is None and row.last_error == "ValueError: the mail server said no"


@pytest.mark.django_db
def test_a_delivery_naming_another_task_than_its_row_runs_nothing():
    """After a restore under a live broker an old delivery may name a reused id: it is ignored."""
    row = message(task=FAILING)
    assert probe.apply(kwargs={"outbox_id": row.pk}, throw=True).result is None
    row.refresh_from_db()
    assert RUNS == [] and row.done_at is None


# --- request id -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_enqueue_keeps_the_request_id_and_the_task_logs_with_it_whoever_sends_it():
    with structlog.contextvars.bound_contextvars(request_id="req-42"):
        row = outbox_enqueue(PROBE, n=3)
    bare = outbox_enqueue(PROBE, n=4)
    assert (row.request_id, bare.request_id) == ("req-42", "")
    # Run as a worker would after outbox_drain sent it: no request in sight.
    assert structlog.contextvars.get_contextvars().get("request_id") is None
    probe.apply(kwargs={"outbox_id": row.pk}, throw=True)
    assert RUNS[-1] == {"kwargs": {"n": 3}, "context": {"request_id": "req-42", "outbox_id": row.pk}}
    assert structlog.contextvars.get_contextvars() == {}, "unbound once the body is over"
    probe.apply(kwargs={"outbox_id": bare.pk}, throw=True)
    assert RUNS[-1]["context"] == {"outbox_id": bare.pk}


@pytest.mark.django_db
def test_a_request_stores_its_request_id_on_the_messages_it_enqueues(client, maker_a, agreement_a, lot, caplog):
    """The id django-structlog's middleware logs the request with is the one its messages keep."""
    caplog.set_level("INFO", logger="django_structlog")
    client.force_login(maker_a)
    body = {
        "material": "NDPR-OX",
        "quantity": "25",
        "needed_by": str(timezone.localdate() + timedelta(days=10)),
        "replenish_by": str(timezone.localdate() + timedelta(days=60)),
        "submit": True,
    }
    before = OutboxMessage.objects.order_by("-id").values_list("id", flat=True).first() or 0
    response = client.post("/api/v1/drawdown-requests/", body, content_type="application/json")
    assert response.status_code == 201, response.content
    [logged] = {
        r.msg["request_id"]
        for r in caplog.records
        if isinstance(r.msg, dict) and r.msg.get("event") == "request_finished"
    }
    ids = OutboxMessage.objects.filter(pk__gt=before).values_list("request_id", flat=True)
    assert logged and len(ids) == 2 and set(ids) == {logged}


# --- resend ---------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_resend_revives_dead_messages_only_and_sends_them_after_commit(
    sent, manager, django_capture_on_commit_callbacks
):
    dead = message(sent_at=ago(hours=1), dead_at=ago(minutes=30), attempts=10, last_error="boom")
    pending = message(attempts=1)
    with django_capture_on_commit_callbacks(execute=True):
        assert outbox_resend(ids=[dead.pk, pending.pk], by=manager) == [dead.pk]
        assert sent == [], "nothing leaves before the commit"
    assert sent == [(PROBE, dead.pk)]
    dead.refresh_from_db()
    pending.refresh_from_db()
    assert (dead.state, dead.attempts, dead.dead_at) == (State.SENT, 1, None)
    assert (pending.state, pending.attempts) == (State.PENDING, 1)


@pytest.mark.django_db
def test_a_resent_message_that_cannot_reach_the_broker_is_left_for_the_drain(sent, manager):
    dead = message(sent_at=ago(hours=1), dead_at=ago(minutes=30), attempts=10)
    sent.fail = True
    outbox_resend(ids=[dead.pk], by=manager)
    outbox._send(dead.pk, PROBE)  # what the commit would run
    dead.refresh_from_db()
    assert (dead.state, dead.attempts) == (State.PENDING, 1)
    sent.fail = False
    assert outbox_drain() == 1


# --- the admin ------------------------------------------------------------------------------------

CHANGELIST = reverse("admin:core_outboxmessage_changelist")


@pytest.fixture
def roles(db):
    roles_sync()


def _listed(response) -> list[int]:
    return [row.pk for row in response.context["cl"].result_list]


def test_the_list_shows_every_state_in_a_constant_number_of_queries(client, roles, manager):
    client.force_login(manager)
    message(task="vault.drawdowns.tasks.notify_status_changed", dead_at=ago(minutes=1), last_error="SMTP 451")
    client.get(CHANGELIST)  # warm the process-wide caches (content types) first
    with CaptureQueriesContext(connection) as few:
        response = client.get(CHANGELIST)
    assert response.status_code == 200
    page = response.content.decode()
    assert "vault.drawdowns.tasks.notify_status_changed" in page and "SMTP 451" in page and "Dead" in page
    now = timezone.now()
    for n in range(30):
        message(sent_at=now, done_at=now if n % 2 else None, request_id=f"req-{n}")
    with CaptureQueriesContext(connection) as many:
        response = client.get(CHANGELIST)
    assert len(_listed(response)) == 31
    assert len(many) == len(few), [q["sql"] for q in many.captured_queries]


def test_the_state_filter_and_the_search(client, roles, auditor):
    client.force_login(auditor)  # every staff role may look
    now = timezone.now()
    dead = message(sent_at=now, dead_at=now)
    done = message(sent_at=now, done_at=now, request_id="req-9")
    pending = message(task="vault.coverage.tasks.alerts_notify")
    assert _listed(client.get(CHANGELIST, {"state": "dead"})) == [dead.pk]
    assert _listed(client.get(CHANGELIST, {"state": "done"})) == [done.pk]
    assert _listed(client.get(CHANGELIST, {"state": "pending"})) == [pending.pk]
    assert _listed(client.get(CHANGELIST, {"state": "sent"})) == []
    assert _listed(client.get(CHANGELIST, {"q": "alerts_notify"})) == [pending.pk]
    assert _listed(client.get(CHANGELIST, {"q": "req-9"})) == [done.pk]


def _resend(client, *rows):
    return client.post(CHANGELIST, {"action": "resend", "_selected_action": [row.pk for row in rows]})


def test_a_manager_resends_dead_messages_from_the_list(client, roles, manager, django_capture_on_commit_callbacks):
    client.force_login(manager)
    dead = message(sent_at=ago(hours=1), dead_at=ago(minutes=5), attempts=10, kwargs={"n": 5})
    other = message(sent_at=ago(minutes=1))
    with django_capture_on_commit_callbacks(execute=True):  # eager in tests: the task runs on commit
        response = _resend(client, dead, other)
    assert response.status_code == 302
    dead.refresh_from_db()
    assert dead.state == State.DONE and dead.attempts == 0
    [run] = RUNS
    assert run["kwargs"] == {"n": 5} and run["context"]["outbox_id"] == dead.pk
    other.refresh_from_db()
    assert other.state == State.SENT
    entry = LogEntry.objects.get(object_id=str(dead.pk))
    assert entry.user == manager and entry.get_change_message() == "Resent"


@pytest.mark.parametrize("role", ["finance", "auditor"])
def test_a_role_without_the_change_permission_cannot_resend(client, roles, role, request):
    user = request.getfixturevalue(role)
    client.force_login(user)
    dead = message(sent_at=ago(hours=1), dead_at=ago(minutes=5), attempts=10)
    response = _resend(client, dead)
    assert response.status_code in (200, 302)
    dead.refresh_from_db()
    assert dead.state == State.DEAD and dead.attempts == 10
    assert not LogEntry.objects.exists()
    assert b"Resend" not in client.get(CHANGELIST).content


def test_no_message_is_added_edited_or_deleted_in_the_admin(client, roles, manager):
    client.force_login(manager)
    row = message(dead_at=ago(minutes=5))
    change = reverse("admin:core_outboxmessage_change", args=[row.pk])
    assert client.get(change).status_code == 200  # a read-only page
    assert client.post(change, {"task": "vault.other"}).status_code == 403
    assert client.get(reverse("admin:core_outboxmessage_add")).status_code == 403
    assert client.get(reverse("admin:core_outboxmessage_delete", args=[row.pk])).status_code == 403
    row.refresh_from_db()
    assert row.task == PROBE


# --- retention ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_prune_deletes_old_done_and_old_dead_messages_in_batches_and_keeps_the_rest(settings):
    settings.VAULT_OUTBOX_RETENTION_DAYS = 30
    now = timezone.now()
    old, recent = now - timedelta(days=30, minutes=1), now - timedelta(days=29, hours=23)
    old_done = [message(sent_at=old, done_at=old) for _ in range(5)]
    old_dead = message(sent_at=old, dead_at=old)
    kept = {
        message(sent_at=recent, done_at=recent).pk,  # done, not yet 30 days ago
        message(sent_at=old, dead_at=recent).pk,  # dead, not yet 30 days ago
        message(sent_at=old).pk,  # sent long ago and never done: the drain's, never deleted
        message().pk,  # never sent
    }
    OutboxMessage.objects.filter(pk__in=kept).update(created_at=old)
    assert outbox_prune(now=now, batch_size=2) == len(old_done) + 1
    assert set(OutboxMessage.objects.values_list("pk", flat=True)) == kept
    assert not OutboxMessage.objects.filter(pk=old_dead.pk).exists()
    assert outbox_prune(now=now) == 0


@pytest.mark.django_db
def test_the_prune_task_runs_on_the_beat_schedule(settings):
    from vault.core.tasks import outbox_prune as task

    old = timezone.now() - timedelta(days=31)
    message(sent_at=old, done_at=old)
    entry = settings.CELERY_BEAT_SCHEDULE["outbox-prune-daily"]
    assert entry["task"] == task.name == "vault.core.tasks.outbox_prune"
    assert task.apply().get() == 1


def test_every_task_name_in_the_code_is_a_registered_task():
    """The services name their outbox tasks by string constants (`NOTIFY_MANAGERS = "vault...."`),
    the settings name the beat's and the time limits' tasks: each one resolves to a task Celery
    knows once the apps' tasks modules are loaded (as a worker loads them), so a rename cannot
    strand messages or schedules."""
    import ast
    from importlib import import_module
    from pathlib import Path

    from celery import current_app
    from django.apps import apps
    from django.utils.module_loading import module_has_submodule

    from vault.core.outbox import OUTBOX_TASKS

    for config in apps.get_app_configs():
        if config.name.startswith("vault.") and module_has_submodule(config.module, "tasks"):
            import_module(f"{config.name}.tasks")
    names = set()
    for path in [*Path("vault").rglob("*.py"), *Path("config").rglob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text())):
            value = node.value if isinstance(node, ast.Constant) else None
            if isinstance(value, str) and value.startswith("vault.") and ".tasks." in value and " " not in value:
                names.add(value)
    assert {"vault.drawdowns.tasks.notify_managers_submitted", "vault.integrity.tasks.vault_check"} <= names
    for name in names:
        assert name in current_app.tasks, name
    for name in OUTBOX_TASKS:
        assert current_app.tasks[name].name == name


@pytest.mark.django_db
def test_enqueueing_an_unknown_task_fails_at_once_and_stores_nothing():
    with pytest.raises(LookupError, match="not an @outbox_task"):
        outbox_enqueue("vault.drawdowns.tasks.no_such_task", request_id=1)
    assert not OutboxMessage.objects.filter(task="vault.drawdowns.tasks.no_such_task").exists()
