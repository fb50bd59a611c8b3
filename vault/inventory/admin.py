"""The holdings in the admin. Every write goes through a service, as in the API: the
catalogue's add, change and delete, a lot's receipt, status and details, movements and their
reversal; quantities are never edited."""

from functools import lru_cache

from django.contrib import admin
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import PermissionDenied
from django.db.models import Q, Subquery
from django.shortcuts import get_object_or_404
from django.urls import get_script_prefix, path, reverse
from django.utils import formats, timezone
from django.utils.html import format_html

from vault.core.admin import (
    EstimatedCountPaginator,
    HistoryAdmin,
    ReadOnlyAdminMixin,
    ReadOnlyInline,
    ServiceFormMixin,
    form_data,
)
from vault.inventory import services
from vault.inventory.forms import LotAddForm, MovementForm, MovementReverseForm
from vault.inventory.models import Lot, Material, Movement, Position, Site


@lru_cache(maxsize=8)
def _reverse_url_pattern(script_prefix: str) -> str:
    return reverse("admin:inventory_movement_reverse", args=[0])


class _CatalogueAdmin(ServiceFormMixin, HistoryAdmin):
    """A catalogue row's add, change and delete pages, written by `services.<row>_create`,
    `<row>_update` and `<row>_delete` (`row` names the services and their argument; looked up
    on each call). The code is typed on the add form and shown read-only after: it is the
    natural key."""

    row: str

    def get_readonly_fields(self, request, obj=None):
        fields = super().get_readonly_fields(request, obj)
        return [*fields, "code"] if obj is not None else list(fields)

    def add_service(self, request, data):
        return getattr(services, f"{self.row}_create")(by=request.user, **data)

    def change_service(self, request, obj, changes):
        getattr(services, f"{self.row}_update")(**{self.row: obj}, by=request.user, **changes)

    def delete_service(self, request, obj):
        getattr(services, f"{self.row}_delete")(**{self.row: obj}, by=request.user)


@admin.register(Material)
class MaterialAdmin(_CatalogueAdmin):
    row = "material"
    list_display = ["code", "name", "form", "grade", "coverage_target_days", "price_floor"]
    list_filter = ["form"]
    search_fields = ["code", "name"]


@admin.register(Site)
class SiteAdmin(_CatalogueAdmin):
    row = "site"
    list_display = ["code", "name", "country", "custodian", "capacity_kg"]
    list_filter = ["country"]
    search_fields = ["code", "name", "custodian"]


class MovementInline(ReadOnlyInline):
    model = Movement
    fk_name = "lot"
    readonly_fields = [
        "business_date",
        "created_at",
        "kind",
        "quantity",
        "balance_after",
        "value",
        "reason",
        "created_by",
    ]
    fields = tuple(readonly_fields)
    ordering = ["-id"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("created_by")


@admin.register(Lot)
class LotAdmin(ServiceFormMixin, HistoryAdmin):
    list_display = [
        "lot_number",
        "material",
        "site",
        "status",
        "on_hand",
        "reserved",
        "unit_cost",
        "mining_country",
        "processing_country",
        "received_date",
    ]
    list_filter = ["status", "material", "site", "mining_country", "processing_country"]
    list_select_related = ["material", "site"]
    search_fields = ["lot_number", "supplier", "assay_certificate"]
    date_hierarchy = "received_date"
    inlines = [MovementInline]
    show_full_result_count = False
    list_per_page = 50

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = LotAddForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ["on_hand", "reserved"]
        return [
            "lot_number",
            "material",
            "site",
            "parent",
            "unit_cost",
            "received_date",
            "mining_country",
            "processing_country",
            "on_hand",
            "reserved",
        ]

    def add_service(self, request, data):
        return services.lot_create(by=request.user, **data)

    def change_service(self, request, obj, changes):
        if "status" in changes:
            services.lot_set_status(lot=obj, status=changes.pop("status"), by=request.user, reason="Changed in admin")
        if changes:
            services.lot_details_update(lot=obj, by=request.user, **changes)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class IndexedOrderingChangeList(ChangeList):
    """Honours `?o=` only for the columns in `sortable_by` (Django hides the other headers but
    would still sort by them when asked in the URL: a full sort of the movement table)."""

    def get_ordering_field(self, field_name):
        if self.sortable_by is not None and field_name not in self.sortable_by:
            return None
        return super().get_ordering_field(field_name)


@admin.register(Movement)
class MovementAdmin(ServiceFormMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "id",
        "business_date",
        "created_at",
        "kind",
        "lot",
        "material",
        "site",
        "quantity",
        "balance_after",
        "value",
        "created_by",
        "reverse_link",
    ]
    list_filter = ["kind", "material", "site", ("business_date", admin.DateFieldListFilter)]
    list_select_related = ["lot", "material", "site", "created_by", "reversed_by"]
    search_fields = ["=lot__lot_number", "=reference"]  # see get_search_results
    search_help_text = "An exact lot number, reference (e.g. DR-12) or movement id."
    # Only what an index can sort: ordering a million rows by quantity took a second.
    sortable_by = ["id", "business_date", "created_at"]
    paginator = EstimatedCountPaginator
    show_full_result_count = False
    ordering = ["-id"]
    list_per_page = 50
    readonly_fields = [f.name for f in Movement._meta.fields]
    add_form = MovementForm  # the same service, validation and errors as the API
    add_title = "Record a movement"
    add_submit_label = "Record movement"

    def get_changelist(self, request, **kwargs):
        return IndexedOrderingChangeList

    def get_search_results(self, request, queryset, search_term):
        """Exact matches only, each served by an index: the lot (its id looked up first, so that
        PostgreSQL combines the lot and reference indexes), the reference, the movement id.
        The default `icontains` over the joined lot scanned the whole table (2 s for 1M rows)."""
        term = search_term.strip()
        if not term:
            return queryset, False
        lot = Lot.objects.filter(lot_number=term).values("pk")[:1]
        condition = Q(lot_id=Subquery(lot)) | Q(reference=term)
        if term.isdigit():
            condition |= Q(pk=int(term))
        return queryset.filter(condition), False

    def has_add_permission(self, request, obj=None) -> bool:
        return request.user.has_perm("inventory.add_movement")

    @admin.display(description="")
    def reverse_link(self, obj):
        if obj.kind == Movement.Kind.REVERSAL or getattr(obj, "reversed_by", None):
            return "reversed" if obj.kind != Movement.Kind.REVERSAL else ""
        # One reverse() per page, not per row: the URL differs only by the id.
        url = _reverse_url_pattern(get_script_prefix()).replace("/0/reverse/", f"/{obj.pk}/reverse/")
        return format_html('<a href="{}">Reverse…</a>', url)

    def get_urls(self):
        return [
            path("<int:pk>/reverse/", self.admin_site.admin_view(self.reverse_view), name="inventory_movement_reverse"),
            *super().get_urls(),
        ]

    def add_service(self, request, data):
        return services.movement_create(by=request.user, **data)

    def add_success(self, movement) -> str:
        return f"Recorded {movement}. Lot {movement.lot} now holds {movement.balance_after} kg."

    def add_done_url(self, movement) -> str:
        return reverse("admin:inventory_lot_change", args=[movement.lot_id])

    def reverse_view(self, request, pk: int):
        if not self.has_add_permission(request):
            raise PermissionDenied
        movement = get_object_or_404(Movement.objects.select_related("lot"), pk=pk)
        at = formats.localize(timezone.localtime(movement.created_at))
        return self.service_form_view(
            request,
            form=MovementReverseForm(*form_data(request)),
            title=f"Reverse movement {movement.pk}",
            intro=(
                f"{movement.get_kind_display()} of {formats.localize(movement.quantity)} kg on lot {movement.lot} "
                f"dated {formats.localize(movement.business_date)} (recorded {at}). "
                "The reversal posts the opposite movement and reverses its journal entry."
            ),
            obj=movement,
            submit_label="Reverse",
            call=lambda data: services.movement_reverse(movement=movement, by=request.user, **data),
            success=lambda reversal: f"Reversed movement {movement.pk} with movement {reversal.pk}.",
        )


@admin.register(Position)
class PositionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["material", "site", "on_hand", "reserved", "unavailable", "available"]
    list_filter = ["material", "site"]
    list_select_related = ["material", "site"]
    search_fields = ["material__code", "site__code"]
