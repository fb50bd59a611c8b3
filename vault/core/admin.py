"""Admin helpers shared by the apps, and the outbox's admin."""

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import connection
from django.utils.functional import cached_property
from django.utils.text import Truncator
from simple_history.admin import SimpleHistoryAdmin

from vault.core.errors import DomainError
from vault.core.models import OutboxMessage
from vault.core.outbox import outbox_resend


def form_error(form, exc: DomainError) -> None:
    """Show a service's error on the field it names (or on the form when it names none)."""
    form.add_error(exc.field if exc.field in form.fields else None, exc.message)


class EstimatedCountPaginator(Paginator):
    """Counts at most `limit` rows (plus the PostgreSQL planner's estimate for an unfiltered
    table), so a changelist page of a million-row table costs the same as of a small one."""

    limit = 10_000

    @cached_property
    def count(self) -> int:
        query = self.object_list.query
        if connection.vendor == "postgresql" and not query.where:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT reltuples::bigint FROM pg_class WHERE relname = %s", [self.object_list.model._meta.db_table]
                )
                row = cursor.fetchone()
            if row and row[0] > self.limit:
                return int(row[0])
        return self.object_list.order_by()[: self.limit + 1].values("pk").count()


class ReadOnlyAdminMixin:
    """For append-only records: viewable by every staff role, never added, changed or deleted here."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


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
    fields = [
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
    readonly_fields = fields
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
