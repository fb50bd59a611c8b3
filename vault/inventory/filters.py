from datetime import date, datetime, time, timedelta

import django_filters
from django.db.models import Subquery
from django.utils import timezone

from vault.core.filters import BoundedDateFilter, IdFilter
from vault.inventory.models import Lot, Material, Movement, Position, Site


class CodeFilter(django_filters.CharFilter):
    """Filter a foreign key to a material or site by its code, compared as the referenced id
    (`material_id = (SELECT id ... WHERE code = ...)`): PostgreSQL then reads a composite index
    such as (material, site, -id) in order and stops after one page, however many rows match."""

    def __init__(self, *args, target, **kwargs):
        self.target = target  # not `model`: the FilterSet sets that to its own model
        super().__init__(*args, **kwargs)

    def filter(self, qs, value):
        if value in ([], (), {}, "", None):
            return qs
        return qs.filter(**{f"{self.field_name}_id": Subquery(self.target.objects.filter(code=value).values("pk")[:1])})


class LotFilter(django_filters.FilterSet):
    material = CodeFilter(field_name="material", target=Material, help_text="Material code")
    site = CodeFilter(field_name="site", target=Site, help_text="Site code")

    class Meta:
        model = Lot
        fields = ["material", "site", "status", "mining_country", "processing_country"]


class MovementFilter(django_filters.FilterSet):
    material = CodeFilter(field_name="material", target=Material, help_text="Material code")
    site = CodeFilter(field_name="site", target=Site, help_text="Site code")
    lot = IdFilter(field_name="lot_id", help_text="Lot id")
    kind = django_filters.ChoiceFilter(choices=Movement.Kind.choices)
    date_from = BoundedDateFilter(
        field_name="business_date", lookup_expr="gte", label="Business date on or after (YYYY-MM-DD)"
    )
    date_to = BoundedDateFilter(
        field_name="business_date", lookup_expr="lte", label="Business date on or before (YYYY-MM-DD)"
    )
    recorded_from = BoundedDateFilter(method="filter_recorded_from", label="Recorded on or after (YYYY-MM-DD)")
    recorded_to = BoundedDateFilter(method="filter_recorded_to", label="Recorded on or before (YYYY-MM-DD)")

    class Meta:
        model = Movement
        fields = ["material", "site", "lot", "kind", "date_from", "date_to", "recorded_from", "recorded_to"]

    # A range on `created_at` itself (not on its date) so that the index on it serves the query.
    def filter_recorded_from(self, queryset, name, value):
        return queryset.filter(created_at__gte=_start_of(value))

    def filter_recorded_to(self, queryset, name, value):
        return queryset.filter(created_at__lt=_start_of(value + timedelta(days=1)))


def _start_of(day: date) -> datetime:
    """Midnight at the start of `day` in the current time zone."""
    return timezone.make_aware(datetime.combine(day, time.min))


class PositionFilter(django_filters.FilterSet):
    material = CodeFilter(field_name="material", target=Material, help_text="Material code")
    site = CodeFilter(field_name="site", target=Site, help_text="Site code")

    class Meta:
        model = Position
        fields = ["material", "site"]
