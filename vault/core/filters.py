"""Filters shared by the apps' FilterSets."""

from datetime import date

import django_filters
from django import forms
from django.core.exceptions import ValidationError

MAX_ID = 2**63 - 1
# Dates a filter accepts: a filter may add a day to its date or turn it into an aware datetime,
# which date.max (9999-12-31) overflows; nothing in Vault is dated before 1900 (nor forecast months).
MIN_DATE = date(1900, 1, 1)
MAX_DATE = date(9998, 12, 31)


class IdField(forms.IntegerField):
    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(**kwargs)


class IdFilter(django_filters.NumberFilter):
    """A filter on a database id: a whole number within the range of a BIGINT, else a 400
    naming the parameter (never a database overflow)."""

    field_class = IdField


class BoundedDateField(forms.DateField):
    def validate(self, value):
        super().validate(value)
        if value is not None and not MIN_DATE <= value <= MAX_DATE:
            raise ValidationError(
                f"Enter a date between {MIN_DATE.isoformat()} and {MAX_DATE.isoformat()}.", code="out_of_range"
            )


class BoundedDateFilter(django_filters.DateFilter):
    """The date filter of every FilterSet: a date between MIN_DATE and MAX_DATE, else a 400 naming
    the parameter (never an OverflowError when the filter computes the next day)."""

    field_class = BoundedDateField
