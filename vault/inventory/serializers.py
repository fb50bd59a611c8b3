from decimal import Decimal

from rest_framework import serializers

from vault.core.numbers import QUANTITY
from vault.core.serializers import BoundedDateField, ModelSerializer, related_code
from vault.inventory.models import LOT_INPUT_FIELDS, Lot, Material, Movement, Position, Site
from vault.inventory.services import CREATABLE_KINDS


class MaterialSerializer(ModelSerializer):
    """Created by `material_create` and changed by `material_update` (the API's views): `code`,
    the natural key, never changes after (the same code may be sent again on PATCH; another one
    is refused with `code_immutable`, nothing written)."""

    class Meta:
        model = Material
        fields = ["code", "name", "form", "grade", "unit", "coverage_target_days", "price_floor"]


class SiteSerializer(ModelSerializer):
    """Created by `site_create` and changed by `site_update`, which refuses a code change and a
    capacity below what the site holds (`capacity_below_held`, under the site's row lock)."""

    class Meta:
        model = Site
        fields = ["code", "name", "country", "custodian", "capacity_kg"]


class LotSerializer(ModelSerializer):
    material = serializers.SlugRelatedField(slug_field="code", queryset=Material.objects.all())
    site = serializers.SlugRelatedField(slug_field="code", queryset=Site.objects.all())
    initial_quantity = serializers.DecimalField(
        write_only=True,
        required=False,
        min_value=Decimal("0.001"),
        help_text="Receive this quantity on creation.",
        **QUANTITY,
    )
    on_hand = serializers.DecimalField(read_only=True, **QUANTITY)
    reserved = serializers.DecimalField(read_only=True, **QUANTITY)

    class Meta:
        model = Lot
        fields = ["id", *LOT_INPUT_FIELDS, "on_hand", "reserved", "initial_quantity"]
        read_only_fields = ["id"]


class LotStatusSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=Lot.Status.choices)
    reason = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


class MovementSerializer(ModelSerializer):
    material = related_code()
    site = related_code()
    lot_number = serializers.CharField(source="lot.lot_number", read_only=True)
    created_by = serializers.CharField(source="created_by.username", read_only=True)

    class Meta:
        model = Movement
        fields = [
            "id",
            "kind",
            "lot",
            "lot_number",
            "material",
            "site",
            "quantity",
            "balance_after",
            "value",
            "reason",
            "reference",
            "counterpart",
            "reverses",
            "business_date",
            "created_at",
            "created_by",
        ]
        read_only_fields = fields


class MovementCreateSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=CREATABLE_KINDS)
    lot = serializers.PrimaryKeyRelatedField(queryset=Lot.objects.all())
    quantity = serializers.DecimalField(help_text="Positive; an adjustment may be negative.", **QUANTITY)
    reason = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
    reference = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    to_site = serializers.SlugRelatedField(
        slug_field="code", queryset=Site.objects.all(), required=False, allow_null=True, default=None
    )
    business_date = BoundedDateField(
        required=False, allow_null=True, default=None, help_text="The day the stock moved; default: today."
    )


class MovementReverseSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=300)
    business_date = BoundedDateField(
        required=False,
        allow_null=True,
        default=None,
        help_text="Default: today; a day in a closed period moves to the first open day.",
    )


class PositionSerializer(ModelSerializer):
    material = related_code()
    site = related_code()
    available = serializers.DecimalField(read_only=True, help_text="on_hand - reserved - unavailable", **QUANTITY)

    class Meta:
        model = Position
        fields = ["material", "site", "on_hand", "reserved", "unavailable", "available"]
        read_only_fields = fields
