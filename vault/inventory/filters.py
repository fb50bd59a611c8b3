import django_filters

from vault.inventory.models import Lot, Movement, Position


class LotFilter(django_filters.FilterSet):
    material = django_filters.CharFilter(field_name="material__code")
    site = django_filters.CharFilter(field_name="site__code")

    class Meta:
        model = Lot
        fields = ["material", "site", "status", "mining_country", "processing_country"]


class MovementFilter(django_filters.FilterSet):
    material = django_filters.CharFilter(field_name="material__code")
    site = django_filters.CharFilter(field_name="site__code")
    lot = django_filters.NumberFilter(field_name="lot_id")
    kind = django_filters.ChoiceFilter(choices=Movement.Kind.choices)
    date_from = django_filters.DateFilter(
        field_name="created_at", lookup_expr="date__gte", label="On or after (YYYY-MM-DD)"
    )
    date_to = django_filters.DateFilter(
        field_name="created_at", lookup_expr="date__lte", label="On or before (YYYY-MM-DD)"
    )

    class Meta:
        model = Movement
        fields = ["material", "site", "lot", "kind", "date_from", "date_to"]


class PositionFilter(django_filters.FilterSet):
    material = django_filters.CharFilter(field_name="material__code")
    site = django_filters.CharFilter(field_name="site__code")

    class Meta:
        model = Position
        fields = ["material", "site"]
