"""Input and output shapes. Inputs only parse; the services decide (no logic in save())."""

from decimal import Decimal

from rest_framework import serializers

from vault.accounts.models import Organization
from vault.core.numbers import MONEY, PERCENT, PRICE, QUANTITY
from vault.core.serializers import BoundedDateField, ModelSerializer, related_code
from vault.drawdowns.domain import second_approval_note
from vault.drawdowns.models import (
    REQUEST_SHOWN_DETAILS,
    REQUEST_SHOWN_PARTIES,
    DisruptionEvent,
    DrawdownRequest,
    DrawdownTransition,
    ParticipationAgreement,
    Replenishment,
    ReplenishmentObligation,
)
from vault.inventory.models import Material, Site


def _material_field(**kwargs):
    return serializers.SlugRelatedField(slug_field="code", queryset=Material.objects.all(), **kwargs)


class DrawdownRequestSerializer(ModelSerializer):
    """Read shape; `status`, `approved_quantity` and `organization` are never writable."""

    organization = related_code()
    material = related_code()
    requested_by = serializers.CharField(source="requested_by.username", read_only=True)
    first_approved_by = serializers.CharField(source="first_approved_by.username", read_only=True, default=None)
    approved_by = serializers.CharField(source="approved_by.username", read_only=True, default=None)
    number = serializers.CharField(read_only=True)
    next_step = serializers.SerializerMethodField(help_text="What the request waits for, when it waits for a person.")

    class Meta:
        model = DrawdownRequest
        fields = ["id", *REQUEST_SHOWN_PARTIES, *REQUEST_SHOWN_DETAILS, "next_step"]
        read_only_fields = fields

    def get_next_step(self, obj: DrawdownRequest) -> str | None:
        return second_approval_note(obj)


class DrawdownTransitionSerializer(ModelSerializer):
    by = serializers.CharField(source="by.username", read_only=True)

    class Meta:
        model = DrawdownTransition
        fields = ["from_status", "to_status", "quantity", "comment", "by", "at"]
        read_only_fields = fields


class DrawdownRequestDetailSerializer(DrawdownRequestSerializer):
    transitions = DrawdownTransitionSerializer(many=True, read_only=True)

    class Meta(DrawdownRequestSerializer.Meta):
        fields = [*DrawdownRequestSerializer.Meta.fields, "transitions"]
        read_only_fields = fields


class DrawdownRequestCreateSerializer(serializers.Serializer):
    """What a manufacturer sends. Any other key (status, approved_quantity, organization...) is
    ignored: the organization is the user's, the status is draft (or submitted with `submit`)."""

    material = _material_field()
    quantity = serializers.DecimalField(min_value=Decimal("0.001"), **QUANTITY)
    needed_by = BoundedDateField()
    priority = serializers.ChoiceField(choices=DrawdownRequest.Priority.choices, default="routine")
    justification = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)
    replenish_by = BoundedDateField(
        required=False, allow_null=True, default=None, help_text="Required outside a declared disruption."
    )
    submit = serializers.BooleanField(required=False, default=False, help_text="Submit right away.")


class CommentSerializer(serializers.Serializer):
    comment = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class RejectSerializer(serializers.Serializer):
    comment = serializers.CharField(max_length=2000, help_text="Why the request is rejected.")


class ApproveSerializer(CommentSerializer):
    quantity = serializers.DecimalField(
        required=False,
        allow_null=True,
        default=None,
        min_value=Decimal("0.001"),
        help_text="kg to approve; all requested when omitted.",
        **QUANTITY,
    )


class EntitlementSerializer(ModelSerializer):
    organization = serializers.SlugRelatedField(slug_field="code", queryset=Organization.objects.all())
    material = _material_field()
    quantity = serializers.DecimalField(min_value=Decimal("0.001"), help_text="Entitlement, kg.", **QUANTITY)
    locked_price = serializers.DecimalField(min_value=Decimal("0"), help_text="USD/kg.", **PRICE)
    premium_pct = serializers.DecimalField(min_value=Decimal("0"), default=Decimal("0"), **PERCENT)
    upfront_fee = serializers.DecimalField(min_value=Decimal("0"), default=Decimal("0"), **MONEY)
    replenishment_days = serializers.IntegerField(min_value=1)
    pending = serializers.DecimalField(read_only=True, help_text="Submitted or approved, not fulfilled.", **QUANTITY)
    outstanding = serializers.DecimalField(read_only=True, help_text="Drawn, not yet replenished.", **QUANTITY)
    remaining = serializers.DecimalField(read_only=True, help_text="quantity - pending - outstanding", **QUANTITY)

    class Meta:
        model = ParticipationAgreement
        fields = [
            "id",
            "organization",
            "material",
            "quantity",
            "locked_price",
            "replenishment_days",
            "premium_pct",
            "upfront_fee",
            "fee_received_at",
            "active",
            "pending",
            "outstanding",
            "remaining",
            "created_at",
        ]
        read_only_fields = ["id", "fee_received_at", "active", "created_at"]
        # One active agreement per organization and material is checked by the service (409 on
        # `material`) and the database, not by DRF's generic unique-together message.
        validators: list = []


class FeeReceiveSerializer(serializers.Serializer):
    received_on = BoundedDateField(required=False, allow_null=True, default=None)


class ObligationSerializer(ModelSerializer):
    organization = related_code()
    material = related_code()
    request_number = serializers.CharField(source="request.number", read_only=True)
    outstanding = serializers.DecimalField(read_only=True, **QUANTITY)

    class Meta:
        model = ReplenishmentObligation
        fields = [
            "id",
            "request",
            "request_number",
            "organization",
            "material",
            "drawn_quantity",
            "premium_pct",
            "premium_quantity",
            "quantity_due",
            "replenished_quantity",
            "outstanding",
            "unit_price",
            "due_on",
            "committed_on",
            "status",
            "created_at",
            "closed_at",
        ]
        read_only_fields = fields


class ReplenishSerializer(serializers.Serializer):
    quantity = serializers.DecimalField(min_value=Decimal("0.001"), **QUANTITY)
    site = serializers.SlugRelatedField(slug_field="code", queryset=Site.objects.all())
    mining_country = serializers.RegexField(r"^[A-Z]{2}$", help_text="ISO 3166 code, e.g. US.")
    processing_country = serializers.RegexField(r"^[A-Z]{2}$", help_text="ISO 3166 code, e.g. US.")
    received_date = BoundedDateField(required=False, allow_null=True, default=None)
    lot_number = serializers.CharField(required=False, allow_blank=True, default="", max_length=64)
    supplier = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)
    assay_certificate = serializers.CharField(required=False, allow_blank=True, default="", max_length=100)
    comment = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class ReplenishmentSerializer(ModelSerializer):
    lot_number = serializers.CharField(source="lot.lot_number", read_only=True)

    class Meta:
        model = Replenishment
        fields = ["id", "obligation", "lot", "lot_number", "quantity", "received_on", "at"]
        read_only_fields = fields


class DisruptionSerializer(ModelSerializer):
    materials = serializers.SlugRelatedField(
        slug_field="code", many=True, queryset=Material.objects.all(), allow_empty=False
    )
    declared_by = serializers.CharField(source="declared_by.username", read_only=True)

    class Meta:
        model = DisruptionEvent
        fields = ["id", "materials", "starts_on", "ends_on", "reason", "declared_by", "declared_at"]
        read_only_fields = ["id", "declared_by", "declared_at"]
