from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from simple_history.admin import SimpleHistoryAdmin

from vault.core.admin import EstimatedCountPaginator, ReadOnlyAdminMixin, ReadOnlyInline
from vault.core.errors import DomainError
from vault.inventory import services
from vault.inventory.forms import LotAddForm, MovementForm, MovementReverseForm
from vault.inventory.models import Lot, Material, Movement, Position, Site


def _form_error(form, exc: DomainError) -> None:
    field = exc.field if exc.field in form.fields else None
    form.add_error(field, exc.message)


@admin.register(Material)
class MaterialAdmin(SimpleHistoryAdmin):
    list_display = ["code", "name", "form", "grade", "coverage_target_days", "price_floor"]
    list_filter = ["form"]
    search_fields = ["code", "name"]


@admin.register(Site)
class SiteAdmin(SimpleHistoryAdmin):
    list_display = ["code", "name", "country", "custodian", "capacity_kg"]
    list_filter = ["country"]
    search_fields = ["code", "name", "custodian"]


class MovementInline(ReadOnlyInline):
    model = Movement
    fk_name = "lot"
    fields = ["created_at", "kind", "quantity", "balance_after", "value", "reason", "created_by"]
    readonly_fields = fields
    ordering = ["-id"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("created_by")


@admin.register(Lot)
class LotAdmin(SimpleHistoryAdmin):
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

    def save_model(self, request, obj, form, change):
        try:
            if not change:
                data = {k: v for k, v in form.cleaned_data.items() if k in LotAddForm.Meta.fields}
                created = services.lot_create(
                    by=request.user, initial_quantity=form.cleaned_data.get("initial_quantity"), **data
                )
                obj.pk = created.pk
                return
            if "status" in form.changed_data:
                services.lot_set_status(lot=obj, status=obj.status, by=request.user, reason="Changed in admin")
            other = [f for f in form.changed_data if f in ("supplier", "assay_certificate")]
            if other:
                obj.save(update_fields=other)
        except DomainError as exc:
            messages.error(request, exc.message)
            raise PermissionDenied(exc.message) from exc

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Movement)
class MovementAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "id",
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
    list_filter = ["kind", "material", "site", ("created_at", admin.DateFieldListFilter)]
    list_select_related = ["lot", "material", "site", "created_by", "reversed_by"]
    search_fields = ["=lot__lot_number", "reason", "reference"]
    paginator = EstimatedCountPaginator
    show_full_result_count = False
    ordering = ["-id"]
    list_per_page = 50
    readonly_fields = [f.name for f in Movement._meta.fields]

    def has_add_permission(self, request, obj=None) -> bool:
        return request.user.has_perm("inventory.add_movement")

    @admin.display(description="")
    def reverse_link(self, obj):
        if obj.kind == Movement.Kind.REVERSAL or getattr(obj, "reversed_by", None):
            return "reversed" if obj.kind != Movement.Kind.REVERSAL else ""
        return format_html('<a href="{}">Reverse…</a>', reverse("admin:inventory_movement_reverse", args=[obj.pk]))

    def get_urls(self):
        return [
            path("<int:pk>/reverse/", self.admin_site.admin_view(self.reverse_view), name="inventory_movement_reverse"),
            *super().get_urls(),
        ]

    def add_view(self, request, form_url="", extra_context=None):
        """Record a movement: the same service, validation and errors as the API."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = MovementForm(request.POST or None, initial=request.GET.dict())
        if request.method == "POST" and form.is_valid():
            try:
                movement = services.movement_create(by=request.user, **form.cleaned_data)
            except DomainError as exc:
                _form_error(form, exc)
            else:
                messages.success(
                    request, f"Recorded {movement}. Lot {movement.lot} now holds {movement.balance_after} kg."
                )
                return redirect("admin:inventory_lot_change", movement.lot_id)
        context = {
            **self.admin_site.each_context(request),
            "title": "Record a movement",
            "form": form,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/inventory/movement_form.html", context)

    def reverse_view(self, request, pk: int):
        if not self.has_add_permission(request):
            raise PermissionDenied
        movement = get_object_or_404(Movement.objects.select_related("lot"), pk=pk)
        form = MovementReverseForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                reversal = services.movement_reverse(movement=movement, by=request.user, **form.cleaned_data)
            except DomainError as exc:
                _form_error(form, exc)
            else:
                messages.success(request, f"Reversed movement {movement.pk} with movement {reversal.pk}.")
                return redirect("admin:inventory_movement_changelist")
        context = {
            **self.admin_site.each_context(request),
            "title": f"Reverse movement {movement.pk}",
            "form": form,
            "movement": movement,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/inventory/movement_form.html", context)


@admin.register(Position)
class PositionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["material", "site", "on_hand", "reserved", "unavailable", "available"]
    list_filter = ["material", "site"]
    list_select_related = ["material", "site"]
    search_fields = ["material__code", "site__code"]
