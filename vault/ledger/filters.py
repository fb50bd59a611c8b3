import django_filters
from django.db.models import Exists, OuterRef

from vault.core.filters import BoundedDateFilter, IdFilter
from vault.ledger.models import JournalEntry, JournalLine


class JournalEntryFilter(django_filters.FilterSet):
    date_from = BoundedDateFilter(field_name="date", lookup_expr="gte", label="On or after (YYYY-MM-DD)")
    date_to = BoundedDateFilter(field_name="date", lookup_expr="lte", label="On or before (YYYY-MM-DD)")
    account = django_filters.CharFilter(method="filter_account", label="Account code: entries touching it")
    facility = django_filters.CharFilter(method="filter_facility", label="Facility code: entries touching its accounts")
    source_type = django_filters.CharFilter()
    source_id = IdFilter()

    class Meta:
        model = JournalEntry
        fields = ["date_from", "date_to", "account", "facility", "source_type", "source_id"]

    def filter_account(self, queryset, name, value):
        return queryset.filter(Exists(JournalLine.objects.filter(entry=OuterRef("pk"), account__code=value)))

    def filter_facility(self, queryset, name, value):
        return queryset.filter(Exists(JournalLine.objects.filter(entry=OuterRef("pk"), account__subledger=value)))
