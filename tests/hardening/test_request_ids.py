"""A request's id follows its work into the worker, against real processes (gunicorn, a Celery
worker, a private redis-server) logging JSON as production does: the task lines of what a
request enqueued carry that request's `request_id`, also when the broker was down at the time
and the drain sent the message later."""

import json

import pytest

from tests.factories import LotFactory, api_token
from tests.hardening.processes import free_port, wait_for
from tests.hardening.test_faults import (  # noqa: F401 - fixtures
    DRAIN,
    Web,
    broker,
    chart_of_accounts,
    entitle,
    logs_on_failure,
    procs,
)
from vault.core.models import OutboxMessage

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True), pytest.mark.real_clock]


def _json_lines(process) -> list[dict]:
    lines = []
    for raw in process.log.read_text(errors="replace").splitlines():
        if raw.startswith("{"):
            try:
                lines.append(json.loads(raw))
            except json.JSONDecodeError:
                continue
    return lines


@logs_on_failure
def test_task_log_lines_carry_the_request_id_that_enqueued_them(
    procs,  # noqa: F811
    broker,  # noqa: F811
    chart_of_accounts,  # noqa: F811
    manager,
    maker_a,
    material,
    site,
    monkeypatch,
):
    monkeypatch.setenv("LOG_FORMAT", "json")
    monkeypatch.setenv("LOG_LEVEL", "INFO")
    LotFactory(material=material, site=site, initial_quantity="20000", by=manager)
    entitle(manager=manager, maker=maker_a, material=material)
    token = api_token(maker_a)
    port = free_port()
    web = Web(port)
    gunicorn = procs.gunicorn(broker_url=broker.redis.url(0), port=port)
    worker = procs.worker(broker_url=broker.redis.url(0), result_backend=broker.redis.url(1))
    wait_for(web.up, timeout=60, what="gunicorn to answer /healthz", interval=0.2)
    wait_for(
        lambda: any(line.get("message", "").endswith(" ready.") for line in _json_lines(worker)),
        timeout=60,
        what="the worker",
    )

    def submit(quantity: str) -> int:
        status, created = web.submit(token=token, material=material, quantity=quantity)
        assert status == 201, created
        return created["id"]

    def request_id_of_post() -> list[str]:
        return [
            line["request_id"]
            for line in _json_lines(gunicorn)
            if line.get("message") == "request_finished" and line.get("request") == "POST /api/v1/drawdown-requests/"
        ]

    def worker_lines_with(request_id: str) -> list[dict]:
        return [line for line in _json_lines(worker) if line.get("request_id") == request_id]

    # Broker up: sent on commit, from the request thread.
    mark = OutboxMessage.objects.order_by("-id").values_list("id", flat=True).first() or 0
    submit("100")
    (first,) = wait_for(request_id_of_post, timeout=30, what="the request's log line")
    assert first and first != "-"
    messages = list(OutboxMessage.objects.filter(pk__gt=mark))
    assert messages and {m.request_id for m in messages} == {first}
    wait_for(
        lambda: len([line for line in worker_lines_with(first) if "done:" in line.get("message", "")]) == len(messages),
        timeout=60,
        what="the worker's lines for the first request",
    )
    started = [line for line in worker_lines_with(first) if line.get("message") == "task_started"]
    assert len(started) == len(messages)

    # Broker down: the message waits in the outbox with the request's id; the drain sends it.
    mark = messages[-1].pk
    broker.redis.kill()
    submit("50")
    second = wait_for(lambda: request_id_of_post()[1:], timeout=30, what="the second request's line")[0]
    waiting = list(OutboxMessage.objects.filter(pk__gt=mark))
    assert waiting and all(m.sent_at is None for m in waiting)
    assert {m.request_id for m in waiting} == {second}
    broker.redis.start()
    assert broker.call(DRAIN, timeout=90) == len(waiting)
    wait_for(
        lambda: len([line for line in worker_lines_with(second) if "done:" in line.get("message", "")]) == len(waiting),
        timeout=60,
        what="the worker's lines for the drained messages",
    )
    assert len([line for line in worker_lines_with(second) if line.get("message") == "task_started"]) == len(waiting)
