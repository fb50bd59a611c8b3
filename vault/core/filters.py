"""Filters shared by the apps' FilterSets."""

import django_filters
from django import forms

MAX_ID = 2**63 - 1


class IdField(forms.IntegerField):
    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(**kwargs)


class IdFilter(django_filters.NumberFilter):
    """A filter on a database id: a whole number within the range of a BIGINT, else a 400
    naming the parameter (never a database overflow)."""

    field_class = IdField
