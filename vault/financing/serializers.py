from decimal import Decimal
from typing import Any

from django.utils import timezone
from rest_framework import serializers

from vault.accounts.models import Organization
from vault.core.numbers import MONEY, POSITIVE_MONEY, PRICE, RATE
from vault.core.serializers import BoundedDateField, ModelSerializer
from vault.financing import models
from vault.financing.models import (
    PRICE_VERSION_FIELDS,
    TRANCHE_FIELDS,
    TRANCHE_FOUR_EYES_FIELDS,
    DayCount,
    Facility,
    Tranche,
)
from vault.financing.selectors import rate_on
from vault.inventory.models import Material
from vault.ledger.serializers import CodeRelatedField


class InterestRateSerializer(ModelSerializer):
    class Meta:
        model = models.InterestRate
        fields = ["effective_from", "rate_pct"]


class FacilitySerializer(ModelSerializer):
    """Read and create. `interest_rate_pct` reads as the rate in force today; on create it
    becomes the first row of the schedule (from `available_from`)."""

    interest_rate_pct = serializers.DecimalField(
        required=False, allow_null=True, min_value=Decimal("0"), max_value=Decimal("99.999999"), **RATE
    )
    commitment = serializers.DecimalField(**POSITIVE_MONEY)
    currency = serializers.ChoiceField(choices=Facility.Currency.choices, default=Facility.Currency.USD)
    day_count = serializers.ChoiceField(choices=DayCount.choices, default=DayCount.ACT_360)
    disbursed = serializers.DecimalField(read_only=True, **MONEY)
    outstanding = serializers.DecimalField(read_only=True, **MONEY)
    undrawn = serializers.DecimalField(read_only=True, **MONEY)
    approved = serializers.DecimalField(read_only=True, help_text="Reserved by approved tranches.", **MONEY)
    headroom = serializers.DecimalField(read_only=True, help_text="Undrawn less approved.", **MONEY)
    account = serializers.CharField(source="account.code", read_only=True)
    interest_account = serializers.CharField(
        source="interest_account.code", read_only=True, default=None, allow_null=True
    )
    rate_schedule = InterestRateSerializer(source="rates", many=True, read_only=True)

    class Meta:
        model = Facility
        fields = [
            "code",
            "name",
            "kind",
            "counterparty",
            "commitment",
            "currency",
            "interest_rate_pct",
            "day_count",
            "available_from",
            "available_until",
            "maturity_date",
            "disbursed",
            "outstanding",
            "undrawn",
            "approved",
            "headroom",
            "account",
            "interest_account",
            "rate_schedule",
        ]
        # The service checks uniqueness and answers 400 with the field named.
        extra_kwargs: dict[str, dict[str, Any]] = {"code": {"validators": []}}

    def to_representation(self, instance):
        data = super().to_representation(instance)
        rate = rate_on(instance, timezone.localdate())
        data["interest_rate_pct"] = None if rate is None else f"{rate:.6f}"
        return data


class FacilityUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200, required=False)
    counterparty = serializers.CharField(max_length=200, required=False)
    commitment = serializers.DecimalField(required=False, **POSITIVE_MONEY)
    available_until = BoundedDateField(required=False)
    maturity_date = BoundedDateField(required=False)


class RateSetSerializer(serializers.Serializer):
    effective_from = BoundedDateField()
    rate_pct = serializers.DecimalField(min_value=Decimal("0"), max_value=Decimal("99.999999"), **RATE)


def _username(source: str) -> serializers.CharField:
    return serializers.CharField(source=f"{source}.username", read_only=True, default=None, allow_null=True)


class TrancheSerializer(ModelSerializer):
    """A tranche and its four-eyes record: who planned, approved, asked for and posted the
    disbursement, and when; `disbursement_pending` while a large disbursement awaits a second user."""

    facility = CodeRelatedField(queryset=Facility.objects.all())
    amount = serializers.DecimalField(**POSITIVE_MONEY)
    created_by = _username("created_by")
    approved_by = _username("approved_by")
    disbursement_requested_by = _username("disbursement_requested_by")
    disbursed_by = _username("disbursed_by")
    disbursement_pending = serializers.BooleanField(read_only=True)

    class Meta:
        model = Tranche
        fields = ["id", *TRANCHE_FIELDS, "disbursement_pending"]
        read_only_fields = ["id", "actual_date", "status", *TRANCHE_FOUR_EYES_FIELDS]


class TrancheDisburseSerializer(serializers.Serializer):
    date = BoundedDateField(required=False, help_text="Disbursal date; today by default.")


class TrancheCancelSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


# The fields a repayment and an interest payment declare alike, mixed into their ModelSerializers
# with `_FacilityPaymentMeta` (no docstring: the API schema would show it as theirs).
class _FacilityPaymentFields(serializers.Serializer):
    facility = CodeRelatedField(queryset=Facility.objects.all())
    amount = serializers.DecimalField(**POSITIVE_MONEY)
    created_by = serializers.CharField(source="created_by.username", read_only=True, default=None, allow_null=True)


class _FacilityPaymentMeta:
    fields = ["id", "facility", "amount", "date", "memo", "created_at", "created_by"]
    read_only_fields = ["id", "created_at", "created_by"]


class RepaymentSerializer(_FacilityPaymentFields, ModelSerializer):
    class Meta(_FacilityPaymentMeta):
        model = models.Repayment


class InterestPaymentSerializer(_FacilityPaymentFields, ModelSerializer):
    facility = CodeRelatedField(queryset=Facility.objects.filter(kind=Facility.Kind.LOAN))

    class Meta(_FacilityPaymentMeta):
        model = models.InterestPayment


class InterestAccrualSerializer(ModelSerializer):
    facility = serializers.CharField(source="facility.code", read_only=True)

    class Meta:
        model = models.InterestAccrual
        fields = ["id", "facility", "date", "principal", "rate_pct", "day_count", "amount"]
        read_only_fields = fields


class FeeReceiptSerializer(ModelSerializer):
    organization = CodeRelatedField(queryset=Organization.objects.all())
    amount = serializers.DecimalField(**POSITIVE_MONEY)
    entry = serializers.CharField(source="entry.number", read_only=True)
    source_type = serializers.CharField(max_length=32, required=False, default="fee")
    source_id = serializers.IntegerField(required=False, allow_null=True, default=None)
    memo = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")

    class Meta:
        model = models.FeeReceipt
        fields = ["id", "organization", "amount", "date", "memo", "source_type", "source_id", "entry", "created_at"]
        read_only_fields = ["id", "entry", "created_at"]


class PricePointSerializer(ModelSerializer):
    material = CodeRelatedField(queryset=Material.objects.all())
    usd_per_kg = serializers.DecimalField(min_value=Decimal("0"), **PRICE)
    created_by = _username("created_by")
    confirmed_by = _username("confirmed_by")

    class Meta:
        model = models.PricePoint
        fields = ["id", "material", "date", "usd_per_kg", "source", *PRICE_VERSION_FIELDS]
        read_only_fields = ["id", *PRICE_VERSION_FIELDS]
        validators: list[Any] = []  # the service answers a duplicate with 409 and the field named


class PriceImportSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="CSV: material,date,usd_per_kg,source")
    default_source = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")


class PriceImportTextSerializer(serializers.Serializer):
    text = serializers.CharField(
        max_length=5_000_000, trim_whitespace=False, help_text="The CSV itself: material,date,usd_per_kg,source"
    )
    default_source = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")


class PriceImportResultSerializer(serializers.Serializer):
    created = serializers.IntegerField(help_text="New prices recorded (in force or pending).")
    updated = serializers.IntegerField(help_text="Corrections recorded, pending a second user.")
    unchanged = serializers.IntegerField(help_text="Rows equal to the price in force.")
    pending = PricePointSerializer(many=True, help_text="The versions awaiting a second finance user.")


class StatementQuerySerializer(serializers.Serializer):
    period = serializers.ChoiceField(choices=["month", "quarter"], default="month")
    date_from = BoundedDateField(required=False)
    date_to = BoundedDateField(required=False)

    def validate(self, attrs):
        if attrs.get("date_from") and attrs.get("date_to") and attrs["date_from"] > attrs["date_to"]:
            raise serializers.ValidationError({"date_to": ["Must be on or after date_from."]})
        return attrs


class StatementRowSerializer(serializers.Serializer):
    period = serializers.CharField()
    start = BoundedDateField()
    end = BoundedDateField()
    opening_principal = serializers.DecimalField(**MONEY)
    disbursements = serializers.DecimalField(**MONEY)
    repayments = serializers.DecimalField(**MONEY)
    principal_adjustments = serializers.DecimalField(**MONEY)
    closing_principal = serializers.DecimalField(**MONEY)
    opening_interest_payable = serializers.DecimalField(**MONEY)
    interest_accrued = serializers.DecimalField(**MONEY)
    interest_paid = serializers.DecimalField(**MONEY)
    interest_adjustments = serializers.DecimalField(**MONEY)
    closing_interest_payable = serializers.DecimalField(**MONEY)


class StatementSerializer(serializers.Serializer):
    facility = serializers.CharField(source="facility.code")
    period = serializers.CharField()
    date_from = BoundedDateField()
    date_to = BoundedDateField()
    rows = StatementRowSerializer(many=True)


class ValuationQuerySerializer(serializers.Serializer):
    as_of = BoundedDateField(required=False, allow_null=True, default=None)
    known_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    # A field of the API named `source` (a Field's attribute for DRF's stubs, not for a Serializer).
    source = serializers.CharField(required=False, allow_blank=True, default="")  # type: ignore[assignment]


class MaterialValuationSerializer(serializers.Serializer):
    material = serializers.CharField()
    name = serializers.CharField()
    quantity_kg = serializers.DecimalField(max_digits=18, decimal_places=3)
    cost = serializers.DecimalField(**MONEY)
    average_cost_per_kg = serializers.DecimalField(allow_null=True, **PRICE)
    market_price = serializers.DecimalField(allow_null=True, **PRICE)
    price_date = BoundedDateField(allow_null=True)
    price_source = serializers.CharField(allow_null=True)
    market_value = serializers.DecimalField(allow_null=True, **MONEY)
    floor_price = serializers.DecimalField(allow_null=True, **PRICE)
    floor_value = serializers.DecimalField(allow_null=True, **MONEY)
    unrealised_gain_loss = serializers.DecimalField(allow_null=True, **MONEY)


class ValuationSerializer(serializers.Serializer):
    as_of = BoundedDateField()
    known_at = serializers.DateTimeField(allow_null=True)
    source = serializers.CharField(allow_null=True)  # type: ignore[assignment]  # the API's `source`, as above
    materials = MaterialValuationSerializer(many=True)
    total_cost = serializers.DecimalField(**MONEY)
    total_market_value = serializers.DecimalField(**MONEY)
    total_floor_value = serializers.DecimalField(**MONEY)
    total_unrealised_gain_loss = serializers.DecimalField(**MONEY)
    unpriced = serializers.ListField(child=serializers.CharField())
