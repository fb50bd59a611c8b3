import django_filters
from rest_framework.exceptions import ValidationError

from vault.core.errors import InvalidInput
from vault.core.filters import BoundedDateFilter, IdFilter
from vault.coverage.domain import Status
from vault.coverage.models import Alert, ConsumptionForecast, CoverageSnapshot, Inbound
from vault.coverage.parsing import parse_month


class MonthFilter(django_filters.CharFilter):
    """A `YYYY-MM` month, matched against the first day of the month."""

    def filter(self, qs, value):
        if not value:
            return qs
        try:
            month = parse_month(value)
        except InvalidInput as exc:
            raise ValidationError({self.field_name: [exc.message]}) from None
        return qs.filter(**{self.field_name: month})


class ForecastFilter(django_filters.FilterSet):
    material = django_filters.CharFilter(field_name="material__code")
    organization = django_filters.CharFilter(field_name="organization__code")
    month = MonthFilter(field_name="month")
    version = IdFilter(field_name="version_id", help_text="Forecast version id")

    class Meta:
        model = ConsumptionForecast
        fields = ["material", "organization", "month", "version"]


class InboundFilter(django_filters.FilterSet):
    material = django_filters.CharFilter(field_name="material__code")
    date_from = BoundedDateFilter(field_name="expected_date", lookup_expr="gte")
    date_to = BoundedDateFilter(field_name="expected_date", lookup_expr="lte")

    class Meta:
        model = Inbound
        fields = ["material", "confirmed", "date_from", "date_to"]


class SnapshotFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=Status.choices)
    material = django_filters.CharFilter(field_name="material__code")
    flagged = django_filters.BooleanFilter(field_name="concentration_flagged")

    class Meta:
        model = CoverageSnapshot
        fields = ["status", "material", "flagged"]


class HistoryFilter(django_filters.FilterSet):
    date_from = BoundedDateFilter(field_name="as_of", lookup_expr="gte")
    date_to = BoundedDateFilter(field_name="as_of", lookup_expr="lte")

    class Meta:
        model = CoverageSnapshot
        fields = ["date_from", "date_to"]


class AlertFilter(django_filters.FilterSet):
    material = django_filters.CharFilter(field_name="material__code")
    level = django_filters.ChoiceFilter(choices=Alert.Level.choices)
    open = django_filters.BooleanFilter(field_name="resolved_at", lookup_expr="isnull")

    class Meta:
        model = Alert
        fields = ["material", "level", "open"]
