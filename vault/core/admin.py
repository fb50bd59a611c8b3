"""Admin helpers shared by the apps."""

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import connection
from django.utils.functional import cached_property
from simple_history.admin import SimpleHistoryAdmin

from vault.core.errors import DomainError


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
