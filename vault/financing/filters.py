import django_filters

from vault.core.filters import BoundedDateFilter
from vault.financing.models import Facility, InterestAccrual, InterestPayment, PricePoint, Repayment, Tranche


class FacilityFilter(django_filters.FilterSet):
    class Meta:
        model = Facility
        fields = ["kind", "currency"]


class TrancheFilter(django_filters.FilterSet):
    facility = django_filters.CharFilter(field_name="facility__code")
    expected_from = BoundedDateFilter(field_name="expected_date", lookup_expr="gte")
    expected_to = BoundedDateFilter(field_name="expected_date", lookup_expr="lte")

    class Meta:
        model = Tranche
        fields = ["facility", "status", "expected_from", "expected_to"]


class _FacilityDated(django_filters.FilterSet):
    facility = django_filters.CharFilter(field_name="facility__code")
    date_from = BoundedDateFilter(field_name="date", lookup_expr="gte")
    date_to = BoundedDateFilter(field_name="date", lookup_expr="lte")


class RepaymentFilter(_FacilityDated):
    class Meta:
        model = Repayment
        fields = ["facility", "date_from", "date_to"]


class InterestPaymentFilter(_FacilityDated):
    class Meta:
        model = InterestPayment
        fields = ["facility", "date_from", "date_to"]


class InterestAccrualFilter(_FacilityDated):
    class Meta:
        model = InterestAccrual
        fields = ["facility", "date_from", "date_to"]


class PricePointFilter(django_filters.FilterSet):
    material = django_filters.CharFilter(field_name="material__code")
    date_from = BoundedDateFilter(field_name="date", lookup_expr="gte")
    date_to = BoundedDateFilter(field_name="date", lookup_expr="lte")

    class Meta:
        model = PricePoint
        fields = ["material", "source", "date_from", "date_to"]
