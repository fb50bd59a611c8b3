import django_filters
from django.utils import timezone

from vault.drawdowns.models import DisruptionEvent, DrawdownRequest, ParticipationAgreement, ReplenishmentObligation


class DrawdownRequestFilter(django_filters.FilterSet):
    material = django_filters.CharFilter(field_name="material__code")
    organization = django_filters.CharFilter(field_name="organization__code")
    status = django_filters.MultipleChoiceFilter(choices=DrawdownRequest.Status.choices)
    priority = django_filters.ChoiceFilter(choices=DrawdownRequest.Priority.choices)

    class Meta:
        model = DrawdownRequest
        fields = ["material", "organization", "status", "priority"]


class EntitlementFilter(django_filters.FilterSet):
    material = django_filters.CharFilter(field_name="material__code")
    organization = django_filters.CharFilter(field_name="organization__code")

    class Meta:
        model = ParticipationAgreement
        fields = ["material", "organization", "active"]


class ObligationFilter(django_filters.FilterSet):
    material = django_filters.CharFilter(field_name="material__code")
    organization = django_filters.CharFilter(field_name="organization__code")
    status = django_filters.ChoiceFilter(choices=ReplenishmentObligation.Status.choices)

    class Meta:
        model = ReplenishmentObligation
        fields = ["material", "organization", "status"]


class DisruptionFilter(django_filters.FilterSet):
    material = django_filters.CharFilter(field_name="materials__code", distinct=True)
    active = django_filters.BooleanFilter(method="filter_active", label="Active today")

    class Meta:
        model = DisruptionEvent
        fields = ["material", "active"]

    def filter_active(self, queryset, name, value):
        today = timezone.localdate()
        active = {"starts_on__lte": today, "ends_on__gte": today}
        return queryset.filter(**active) if value else queryset.exclude(**active)
