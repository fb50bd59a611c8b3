"""Serializer fields and bases shared by the apps' serializers.

Every date a client sends, in a body or in query parameters read by a serializer (`as_of`, the
ledger export's and the statement's `date_from`/`date_to`), is a `BoundedDateField`: the same
range as the FilterSets' `BoundedDateFilter` (vault.core.filters), else a 400 naming the field
with the code `out_of_range`. Dates near date.max overflow whatever adds a day to them or makes
them a datetime (a 500), and no date of the program lies outside the range."""

from __future__ import annotations

from typing import Any

from django.db import models
from rest_framework import serializers

from vault.core.filters import MAX_DATE, MIN_DATE


class BoundedDateField(serializers.DateField):
    """DRF's DateField accepting MIN_DATE..MAX_DATE only."""

    default_error_messages = {
        "out_of_range": f"Enter a date between {MIN_DATE.isoformat()} and {MAX_DATE.isoformat()}.",
    }

    def to_internal_value(self, value):
        parsed = super().to_internal_value(value)
        if not MIN_DATE <= parsed <= MAX_DATE:
            self.fail("out_of_range")
        return parsed


class ModelSerializer(serializers.ModelSerializer):
    """DRF's ModelSerializer whose generated date fields are BoundedDateField."""

    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.DateField: BoundedDateField,
    }


def related_code(**kwargs: Any) -> serializers.SlugRelatedField[Any]:
    """A related row shown by its natural key, `code` (a material, a site, an organization),
    read-only."""
    return serializers.SlugRelatedField(slug_field="code", read_only=True, **kwargs)
