"""The one admin helper for service-backed forms (vault.core.admin.ServiceFormMixin): what it
guarantees whatever the app. Each app's tests show the same on its own pages."""

import pytest
from django import forms
from django.contrib import admin
from django.contrib.messages import get_messages
from django.contrib.messages.storage.cookie import CookieStorage
from django.core.exceptions import ValidationError
from django.test import RequestFactory

from tests.admin_pages import field_errors
from tests.factories import UserFactory
from vault.core.admin import ServiceFormMixin
from vault.core.errors import Conflict, InvalidInput
from vault.core.models import OutboxMessage


class TaskForm(forms.Form):
    task = forms.CharField(max_length=20)


class OutboxServiceAdmin(ServiceFormMixin, admin.ModelAdmin):
    """A stand-in: any model registered in the admin serves (its URLs make the breadcrumbs)."""


@pytest.fixture
def page(db):
    user = UserFactory(username="root", role="", is_superuser=True, is_staff=True)
    model_admin = OutboxServiceAdmin(OutboxMessage, admin.site)

    def show(method: str, data=None, *, call, done_url="/done/"):
        request = getattr(RequestFactory(), method)("/admin/core/outboxmessage/job/", data or {})
        request.user = user
        request._messages = CookieStorage(request)
        response = model_admin.service_form_view(
            request,
            form=TaskForm(request.POST if method == "post" else None),
            title="A job",
            call=call,
            success=lambda result: f"Done: {result}.",
            done_url=done_url,
        )
        if hasattr(response, "render"):
            response.render()
        return request, response

    return show


def write_then(error):
    """A service that writes a row, then refuses: the refusal must take the row back with it."""

    def call(data):
        OutboxMessage.objects.create(task=data["task"])
        raise error

    return call


def never(data):
    raise AssertionError("the service must not be called")


def test_get_shows_the_form(page):
    _, response = page("get", call=never)
    assert response.status_code == 200
    assert 'name="task"' in response.content.decode()


def test_an_invalid_form_is_a_400_and_calls_no_service(page):
    _, response = page("post", {"task": ""}, call=never)
    assert response.status_code == 400
    assert field_errors(response, "task") == "This field is required."


@pytest.mark.parametrize(
    ("error", "field", "shown"),
    [
        (InvalidInput("Not this task.", field="task"), "task", "Not this task."),
        (Conflict("Taken meanwhile.", field="task", code="taken"), "task", "Taken meanwhile."),
        (ValidationError({"task": ["The model refuses it."]}), "task", "The model refuses it."),
        (InvalidInput("No field of this form.", field="elsewhere"), None, "No field of this form."),
        (ValidationError("Refused as a whole."), None, "Refused as a whole."),
    ],
)
def test_a_refusal_is_a_400_on_the_named_field_and_nothing_is_written(page, error, field, shown):
    _, response = page("post", {"task": "probe"}, call=write_then(error))
    assert response.status_code == 400
    form = response.context_data["form"]
    if field:
        assert field_errors(response, field) == shown
    else:
        assert form.non_field_errors() == [shown]
        assert f'<p class="errornote">{shown}</p>' in response.content.decode()
    assert not OutboxMessage.objects.exists()  # the call ran in a transaction the refusal rolled back


def test_success_is_a_message_and_a_redirect(page):
    request, response = page("post", {"task": "probe"}, call=lambda data: data["task"].upper())
    assert (response.status_code, response["Location"]) == (302, "/done/")
    assert [str(m) for m in get_messages(request)] == ["Done: PROBE."]


def test_the_redirect_may_depend_on_the_result(page):
    _, response = page("post", {"task": "probe"}, call=lambda data: 7, done_url=lambda n: f"/done/{n}/")
    assert response["Location"] == "/done/7/"


def test_the_admin_never_writes_without_a_service(db):
    """An admin on the helper whose page would save or delete without naming its service fails
    loudly instead of writing by the ORM."""
    model_admin = OutboxServiceAdmin(OutboxMessage, admin.site)
    request = RequestFactory().post("/")
    message = OutboxMessage(task="x")
    form = TaskForm({"task": "x"})
    assert form.is_valid()
    with pytest.raises(NotImplementedError, match="add_service"):
        model_admin.save_model(request, message, form, change=False)
    with pytest.raises(NotImplementedError, match="delete_service"):
        model_admin.delete_model(request, message)
    assert not OutboxMessage.objects.exists()
