"""Admin helpers shared by the apps (the one way to put a service behind a form), and the outbox's admin."""

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import connection, router, transaction
from django.db.models import QuerySet
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.text import Truncator
from simple_history.admin import SimpleHistoryAdmin

from vault.core.errors import DomainError
from vault.core.models import OutboxMessage
from vault.core.outbox import outbox_resend

Refusal = DomainError | ValidationError
REFUSAL_ATTRIBUTE = "_vault_service_refusal"  # set on the request while a refused form is shown again


def form_error(form: forms.BaseForm, exc: Refusal) -> None:
    """Show a service's refusal on the form: a DomainError on the field it names, a model's
    ValidationError (a `full_clean()` inside the service) on each field it names; whatever names
    no field of this form goes on the form itself."""
    if isinstance(exc, DomainError):
        form.add_error(exc.field if exc.field in form.fields else None, exc.message)
    elif hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def form_data(request) -> tuple[Any, Any]:
    """The arguments that bind a form to a POST (data and files), or leave it unbound on a GET:
    `Form(*form_data(request))`. A POST with an empty body is bound too, so it shows what is missing."""
    return (request.POST, request.FILES) if request.method == "POST" else (None, None)


def stored_changes(form: forms.ModelForm, obj) -> dict:
    """The form's values that differ from the object's stored row: what a change page (or a
    revert page, whose form starts from an old version) asks the service to write."""
    stored = type(obj)._default_manager.get(pk=obj.pk)
    fields = {f.name for f in obj._meta.concrete_fields}
    return {
        name: value for name, value in form.cleaned_data.items() if name in fields and getattr(stored, name) != value
    }


def _shows_errors(response) -> bool:
    context = getattr(response, "context_data", None) or {}
    return bool(context.get("errors"))


if TYPE_CHECKING:  # what the mixin is mixed into, for the type checker
    _ModelAdmin = admin.ModelAdmin
else:
    _ModelAdmin = object


def admin_url(opts, view: str) -> str:
    """The URL name of one of a model's admin pages (the admin_urlname template filter's rule)."""
    return f"admin:{opts.app_label}_{opts.model_name}_{view}"


class ServiceFormMixin(_ModelAdmin):
    """The one way the admin puts a form in front of a service. For a ModelAdmin.

    `service_form_view` (custom pages: decisions, uploads, "Add" pages that are a service call)
    and the admin's own add, change, revert and delete pages (`save_model` and `delete_model`
    call `add_service`, `change_service` and `delete_service`, which call services; the admin
    itself writes nothing) give the same guarantees:

    - GET shows the form (200).
    - POST with an invalid form answers 400 with the form and its errors; no service is called.
    - POST whose service raises a `vault.core.errors.DomainError` (or the ValidationError of a
      `full_clean()` it runs) answers 400 with the form, the error on the field the exception
      names (`field`; on the form when it names none of the form's fields); nothing is written:
      the call runs in a transaction that the refusal rolls back.
    - Success: a message and a redirect.

    On the admin's own pages the service runs in `save_model`, after Django validated the form,
    so a refusal cannot be added to that form any more: the page is built again from the same
    POST with the refusal added as a form error (`get_form`), which is then what is shown."""

    add_form: type[forms.BaseForm] | None = None  # when set, "Add" shows it and calls `add_service`
    add_title = "Add"
    add_submit_label = "Save"
    service_form_template = "admin/service_form.html"

    # --- custom pages ------------------------------------------------------------------------

    def service_form_view(
        self,
        request,
        *,
        form: forms.BaseForm,
        title: str,
        call: Callable[[dict], Any],
        success: Callable[[Any], str],
        intro: str = "",
        obj=None,
        done_url: str | Callable[[Any], str] | None = None,
        submit_label: str = "Save",
        danger: bool = False,
        template: str | None = None,
    ):
        """Show `form`; on a valid POST run `call(cleaned_data)` (a service) in a transaction,
        then show `success(result)` and go to `done_url` (a URL, or a function of the result;
        the changelist by default). `obj` is the object the page acts on (breadcrumb, Back link)."""
        error = None
        if request.method == "POST" and form.is_valid():
            try:
                with transaction.atomic(using=router.db_for_write(self.model)):
                    result = call(form.cleaned_data)
            except (DomainError, ValidationError) as exc:
                error = exc
                form_error(form, exc)
            else:
                messages.success(request, success(result))
                return redirect(done_url(result) if callable(done_url) else done_url or self._changelist_url())
        back = reverse(admin_url(self.opts, "change"), args=[obj.pk]) if obj is not None else None
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "form": form,
            "intro": intro,
            "original": obj,
            "opts": self.opts,
            "submit_label": submit_label,
            "danger": danger,
            "cancel_url": back or self._changelist_url(),
            "error": error,
        }
        status = 400 if request.method == "POST" else 200
        return TemplateResponse(request, template or self.service_form_template, context, status=status)

    def service_action(self, request, queryset, *, verb: str, call: Callable[[Any], Any]) -> None:
        """An admin action calling a service on each selected row (in primary-key order), each in
        its own transaction: a refusal is shown as an error message naming the row, the others go on."""
        done = 0
        for obj in queryset.order_by("pk"):
            try:
                with transaction.atomic(using=router.db_for_write(self.model)):
                    call(obj)
            except DomainError as exc:
                messages.error(request, f"{obj}: {exc.message}")
            else:
                done += 1
        if done:
            messages.success(
                request, f"{verb} {done} {self.opts.verbose_name_plural if done > 1 else self.opts.verbose_name}."
            )

    def _changelist_url(self) -> str:
        return reverse(admin_url(self.opts, "changelist"))

    # --- the services behind the pages --------------------------------------------------------
    # Without them a page that would write fails loudly: the admin never saves by itself.

    def add_service(self, request, data: dict):
        """Call the service that creates the object from the cleaned data; return what it made."""
        raise NotImplementedError(f"{type(self).__name__} adds through a service: define add_service")

    def change_service(self, request, obj, changes: dict) -> None:
        """Call the service that writes `changes` (the form's values that differ from the row)."""
        raise NotImplementedError(f"{type(self).__name__} changes through a service: define change_service")

    def delete_service(self, request, obj) -> None:
        raise NotImplementedError(f"{type(self).__name__} deletes through a service: define delete_service")

    # --- "Add" as a service page (`add_form`) ----------------------------------------------------

    def add_success(self, result) -> str:
        return f"Recorded {result}."

    def add_done_url(self, result) -> str:
        return self._changelist_url()

    def add_view(self, request, form_url="", extra_context=None):
        if self.add_form is None:
            return super().add_view(request, form_url, extra_context)
        if not self.has_add_permission(request):
            raise PermissionDenied
        return self.service_form_view(
            request,
            form=self.add_form(*form_data(request), initial=request.GET.dict()),
            title=self.add_title,
            submit_label=self.add_submit_label,
            call=lambda data: self.add_service(request, data),
            success=self.add_success,
            done_url=self.add_done_url,
        )

    # --- the admin's own add, change, revert and delete pages ------------------------------------

    def save_model(self, request, obj, form, change):
        if not change:
            obj.pk = self.add_service(request, form.cleaned_data).pk
        elif changes := stored_changes(form, obj):
            self.change_service(request, obj, changes)

    def delete_model(self, request, obj):
        self.delete_service(request, obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset.order_by("pk"):
            self.delete_service(request, obj)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        return self._refusal_shown(request, super().changeform_view, request, object_id, form_url, extra_context)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        """django-simple-history's revert page saves through `save_model` as well."""
        history_form_view = super().history_form_view  # type: ignore[misc]  # SimpleHistoryAdmin's, untyped
        return self._refusal_shown(request, history_form_view, request, object_id, version_id, extra_context)

    def render_history_view(self, request, template, context, **kwargs):
        return TemplateResponse(request, template, context, **kwargs)  # not render(): the status is set after

    def get_form(self, request, obj=None, change=False, **kwargs):
        form: type[forms.ModelForm] = super().get_form(request, obj, change=change, **kwargs)
        found = getattr(request, REFUSAL_ATTRIBUTE, None)
        if found is None:
            return form
        refusal: Refusal = found

        class Refused(form):  # type: ignore[valid-type,misc]  # a class made at run time
            def clean(self):
                cleaned_data = super().clean()
                form_error(self, refusal)
                return cleaned_data

        Refused.__name__ = form.__name__
        return Refused

    def _refusal_shown(self, request, view: Callable, *args):
        if request.method != "POST":
            return view(*args)
        try:
            with transaction.atomic(using=router.db_for_write(self.model)):
                response = view(*args)
        except (DomainError, ValidationError) as exc:
            setattr(request, REFUSAL_ATTRIBUTE, exc)
            try:
                response = view(*args)  # the same POST again: the form is now invalid, nothing is saved
            finally:
                delattr(request, REFUSAL_ATTRIBUTE)
        if _shows_errors(response):
            response.status_code = 400
        return response


class EstimatedCountPaginator(Paginator):
    """Counts at most `limit` rows (plus the PostgreSQL planner's estimate for an unfiltered
    table), so a changelist page of a million-row table costs the same as of a small one."""

    limit = 10_000

    @cached_property
    def count(self) -> int:
        queryset = cast(QuerySet, self.object_list)  # the admin pages querysets
        query = queryset.query
        if connection.vendor == "postgresql" and not query.where:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT reltuples::bigint FROM pg_class WHERE relname = %s", [queryset.model._meta.db_table]
                )
                row = cursor.fetchone()
            if row and row[0] > self.limit:
                return int(row[0])
        return queryset.order_by()[: self.limit + 1].values("pk").count()


class ReadOnlyAdminMixin:
    """For append-only records: viewable by every staff role, never added, changed or deleted here."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class RevocableAdminMixin(ReadOnlyAdminMixin):
    """For credentials (API tokens, authenticator apps): viewable by every staff role, never added
    or changed here; deleting one (a revocation, a reset) is for superusers."""

    def has_delete_permission(self, request, obj=None) -> bool:
        return request.user.is_superuser


class ReadOnlyInline(ReadOnlyAdminMixin, admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = True


class HistoryAdmin(SimpleHistoryAdmin):
    """SimpleHistoryAdmin whose revert page saves only for a user who may change the object.
    django-simple-history checks only the view permission before saving the posted form, so a
    role that may only read (an auditor) could overwrite a versioned row, its own user included."""

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        if request.method == "POST" and not self.has_change_permission(
            request, self.get_object(request, unquote(object_id))
        ):
            raise PermissionDenied
        return super().history_form_view(request, object_id, version_id, extra_context)


# --- the outbox -------------------------------------------------------------------------------------


class OutboxStateFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return OutboxMessage.State.choices

    def queryset(self, request, queryset):
        if self.value() in OutboxMessage.State.values:
            return queryset.in_state(self.value())
        return queryset


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    """The outbox, read-only: what was asked of the workers, and what became of it. "Resend"
    (for those who may change it) revives dead messages and sends them again."""

    list_display = [
        "id",
        "task",
        "state_badge",
        "attempts",
        "error_summary",
        "created_at",
        "sent_at",
        "done_at",
        "dead_at",
        "request_id",
    ]
    list_filter = [OutboxStateFilter]  # not by task: its choices would cost a scan of the table
    search_fields = ["task", "=request_id"]
    ordering = ["-id"]
    readonly_fields = [
        "task",
        "kwargs",
        "state_badge",
        "attempts",
        "last_error",
        "request_id",
        "created_at",
        "sent_at",
        "done_at",
        "dead_at",
    ]
    fields = tuple(readonly_fields)
    actions = ["resend"]
    paginator = EstimatedCountPaginator
    show_full_result_count = False

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        # The change permission runs "Resend" from the list; no row is ever edited by hand.
        return obj is None and super().has_change_permission(request)

    @admin.display(description="state")
    def state_badge(self, obj) -> str:
        return OutboxMessage.State(obj.state).label

    @admin.display(description="last error")
    def error_summary(self, obj) -> str:
        return Truncator(obj.last_error).chars(80)

    @admin.action(description="Resend (dead messages only)", permissions=["change"])
    def resend(self, request, queryset):
        ids = list(queryset.values_list("pk", flat=True))
        revived = outbox_resend(ids=ids, by=request.user)
        for message in OutboxMessage.objects.filter(pk__in=revived):
            self.log_change(request, message, "Resent")
        if revived:
            self.message_user(request, f"Resent {len(revived)} dead message(s): {', '.join(map(str, revived))}.")
        skipped = len(ids) - len(revived)
        if skipped:
            self.message_user(
                request, f"Left {skipped} message(s) that are not dead: the drain sends those.", messages.WARNING
            )
