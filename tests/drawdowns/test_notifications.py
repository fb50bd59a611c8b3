"""E-mails on state changes, through the transactional outbox."""

from decimal import Decimal
from unittest import mock

import pytest
from celery import current_app
from django.core import mail

from tests.factories import UserFactory
from vault.core.models import OutboxMessage
from vault.core.outbox import outbox_drain
from vault.drawdowns import services


@pytest.fixture
def people(org_a, maker_a, manager):
    UserFactory(username="buyer_a", role="manufacturer", organization=org_a, email="buyer@org-a.example")
    UserFactory(username="manager2", role="manager", email="m2@vault.example")
    UserFactory(username="no_mail", role="manager", email="")
    return


def _by_subject(fragment):
    return [m for m in mail.outbox if fragment in m.subject]


def test_submission_mails_the_managers_and_the_organization(
    people, maker_a, agreement_a, stocked, make_request, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        request = make_request(maker_a, "10")
    new = _by_subject("New drawdown request")
    assert len(new) == 1
    assert sorted(new[0].to) == ["m2@vault.example", "manager1@example.com"]
    assert "ORG-A" in new[0].body and "10.000 kg" in new[0].body
    changed = _by_subject(f"{request.number} submitted")
    assert len(changed) == 1
    assert sorted(changed[0].to) == ["buyer@org-a.example", "maker_a@example.com"]
    assert len(mail.outbox) == 2  # the draft itself is not a state change worth a mail


def test_each_state_change_mails_the_organization_only(
    people, maker_a, maker_b, manager, agreement_a, stocked, make_request, django_capture_on_commit_callbacks
):
    request = make_request(maker_a, "10")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.drawdown_approve(request=request, by=manager, quantity=Decimal("8"), comment="8 now")
    with django_capture_on_commit_callbacks(execute=True):
        services.drawdown_fulfil(request=request, by=manager)
    subjects = [m.subject for m in mail.outbox]
    assert subjects == [f"[Vault] {request.number} approved: NDPR-OX", f"[Vault] {request.number} fulfilled: NDPR-OX"]
    assert all("maker_b@example.com" not in m.to for m in mail.outbox)
    assert "Comment: 8 now" in mail.outbox[0].body
    assert "Quantity approved: 8.000 kg" in mail.outbox[0].body


def test_a_refused_transition_sends_nothing(
    people, maker_a, manager, agreement_a, stocked, make_request, django_capture_on_commit_callbacks
):
    request = make_request(maker_a, "10", submit=False)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(Exception):  # noqa: B017
        services.drawdown_approve(request=request, by=manager)
    assert mail.outbox == []


def test_broker_down_the_request_succeeds_and_the_mail_is_sent_once_later(
    people, maker_a, manager, agreement_a, stocked, make_request, django_capture_on_commit_callbacks
):
    request = make_request(maker_a, "10")
    mail.outbox.clear()
    OutboxMessage.objects.all().delete()
    # With the Django namespace the setting lives under its CELERY_ key.
    current_app.conf["CELERY_TASK_ALWAYS_EAGER"] = False
    try:
        with (
            mock.patch.object(current_app, "send_task", side_effect=ConnectionError("broker down")) as send,
            django_capture_on_commit_callbacks(execute=True),
        ):
            services.drawdown_approve(request=request, by=manager)
        assert send.called
    finally:
        current_app.conf["CELERY_TASK_ALWAYS_EAGER"] = True
    request.refresh_from_db()
    assert request.status == "approved"  # the request succeeded
    assert mail.outbox == []
    pending = OutboxMessage.objects.get(task="vault.drawdowns.tasks.notify_status_changed")
    assert pending.sent_at is None and pending.done_at is None and pending.attempts == 1
    assert "broker down" in pending.last_error

    # The broker is back: the periodic drain sends it (run eagerly here), twice for good measure.
    def deliver(name, kwargs=None, **options):
        return current_app.tasks[name].apply(kwargs=kwargs, throw=True)

    with mock.patch.object(current_app, "send_task", side_effect=deliver):
        assert outbox_drain() == 1
        OutboxMessage.objects.filter(pk=pending.pk).update(sent_at=None)  # as if the ack was lost
        outbox_drain()
    assert len(mail.outbox) == 1
    assert mail.outbox[0].subject == f"[Vault] {request.number} approved: NDPR-OX"
    pending.refresh_from_db()
    assert pending.done_at is not None
