import django_filters

from vault.core.filters import BoundedDateFilter
from vault.financing.models import Facility, InterestAccrual, InterestPayment, PricePoint, Repayment, Tranche


def _code(relation: str) -> django_filters.CharFilter:
    """A related row by its code: `?facility=EXIM-2026`, `?material=NDPR-OXIDE`."""
    return django_filters.CharFilter(field_name=f"{relation}__code")


def _date_range(field_name: str) -> tuple[BoundedDateFilter, BoundedDateFilter]:
    """From and to a day, both included."""
    return (
        BoundedDateFilter(field_name=field_name, lookup_expr="gte"),
        BoundedDateFilter(field_name=field_name, lookup_expr="lte"),
    )


class FacilityFilter(django_filters.FilterSet):
    class Meta:
        model = Facility
        fields = ["kind", "currency"]


class TrancheFilter(django_filters.FilterSet):
    facility = _code("facility")
    expected_from, expected_to = _date_range("expected_date")

    class Meta:
        model = Tranche
        fields = ["facility", "status", "expected_from", "expected_to"]


class _Dated(django_filters.FilterSet):
    date_from, date_to = _date_range("date")


class _FacilityDated(_Dated):
    facility = _code("facility")


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


class PricePointFilter(_Dated):
    material = _code("material")

    class Meta:
        model = PricePoint
        fields = ["material", "source", "date_from", "date_to"]
