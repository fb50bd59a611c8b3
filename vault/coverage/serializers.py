from decimal import Decimal

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from vault.accounts.models import Organization
from vault.core.errors import InvalidInput
from vault.core.numbers import DAYS, PCT, QUANTITY
from vault.core.serializers import BoundedDateField, ModelSerializer, related_code
from vault.coverage.domain import Status
from vault.coverage.models import Alert, ConsumptionForecast, CoverageRun, CoverageSnapshot, ForecastVersion, Inbound
from vault.coverage.parsing import parse_month
from vault.inventory.models import Material


@extend_schema_field({"type": "string", "pattern": r"^\d{4}-\d{2}$", "example": "2026-07"})
class MonthField(serializers.Field):
    """A month as `YYYY-MM`, stored as its first day."""

    default_error_messages = {"invalid": "Use YYYY-MM, e.g. 2026-07."}

    def to_representation(self, value):
        return f"{value:%Y-%m}"

    def to_internal_value(self, data):
        try:
            return parse_month(str(data))
        except InvalidInput:
            self.fail("invalid")


# --- coverage figures (snapshots and scenario results share their fields) ---------------------------

STATUS_HELP = "breach: below target; warning: target <= days < target x 1.2; ok; no-demand: unbounded."

FIGURE_FIELDS = [
    "material",
    "usable_stock",
    "forward_days",
    "beyond_horizon",
    "depletion_date",
    "trailing_days",
    "target_days",
    "status",
    "released_in_window",
    "trailing_window_days",
    "mining_shares",
    "processing_shares",
    "china_mining_share",
    "china_processing_share",
    "concentration_flagged",
]


@extend_schema_field({"type": "string", "description": f"ok, warning, breach or no-demand ({STATUS_HELP})"})
class ScenarioStatusField(serializers.ChoiceField):
    """The snapshot's status values, documented inline so that the schema has one status enum
    for coverage (on the snapshot) rather than two colliding ones."""

    def __init__(self, **kwargs):
        super().__init__(choices=Status.choices, **kwargs)


class SnapshotSerializer(ModelSerializer):
    material = related_code()
    forward_days = serializers.DecimalField(
        allow_null=True, help_text="null: unbounded (no demand).", read_only=True, **DAYS
    )
    trailing_days = serializers.DecimalField(
        allow_null=True, help_text="null: nothing released in the window.", read_only=True, **DAYS
    )
    status = serializers.ChoiceField(choices=Status.choices, read_only=True, help_text=STATUS_HELP)

    class Meta:
        model = CoverageSnapshot
        fields = ["id", "run", "as_of", "computed_at", *FIGURE_FIELDS]
        read_only_fields = fields


def _shares(shares) -> dict[str, str]:
    return {country: str(share) for country, share in shares.items()}


class ScenarioResultSerializer(serializers.Serializer):
    """The figures of one material under a scenario (same fields as a snapshot)."""

    material = serializers.CharField()
    usable_stock = serializers.DecimalField(**QUANTITY)
    forward_days = serializers.DecimalField(allow_null=True, **DAYS)
    beyond_horizon = serializers.BooleanField()
    depletion_date = BoundedDateField(allow_null=True)
    trailing_days = serializers.DecimalField(allow_null=True, **DAYS)
    target_days = serializers.IntegerField()
    status = ScenarioStatusField()
    released_in_window = serializers.DecimalField(**QUANTITY)
    trailing_window_days = serializers.IntegerField()
    mining_shares = serializers.SerializerMethodField()
    processing_shares = serializers.SerializerMethodField()
    china_mining_share = serializers.DecimalField(max_digits=5, decimal_places=4, source="concentration.china_mining")
    china_processing_share = serializers.DecimalField(
        max_digits=5, decimal_places=4, source="concentration.china_processing"
    )
    concentration_flagged = serializers.BooleanField(source="concentration.flagged")

    def get_mining_shares(self, figures) -> dict[str, str]:
        return _shares(figures.concentration.mining)

    def get_processing_shares(self, figures) -> dict[str, str]:
        return _shares(figures.concentration.processing)


class DrawdownOverrideSerializer(serializers.Serializer):
    material = serializers.CharField(max_length=32)
    quantity = serializers.DecimalField(min_value=Decimal("0.001"), **QUANTITY)


class ScenarioSerializer(serializers.Serializer):
    materials = serializers.ListField(
        child=serializers.CharField(max_length=32), required=False, help_text="Material codes; all when omitted."
    )
    demand_change_pct = serializers.DecimalField(
        required=False, default=Decimal("0"), min_value=Decimal("-100"), help_text="e.g. 25 for +25%.", **PCT
    )
    inbound_cut_pct = serializers.DecimalField(
        required=False,
        default=Decimal("0"),
        min_value=Decimal("0"),
        max_value=Decimal("100"),
        help_text="Share of confirmed inbound that does not arrive, %.",
        **PCT,
    )
    extra_drawdowns = DrawdownOverrideSerializer(many=True, required=False)


class RunSerializer(ModelSerializer):
    status = serializers.CharField(read_only=True, help_text="completed: the run and its snapshots were stored.")

    class Meta:
        model = CoverageRun
        fields = [
            "id",
            "started_at",
            "finished_at",
            "status",
            "as_of",
            "trigger",
            "material_count",
            "alerts_opened",
            "alerts_resolved",
        ]
        read_only_fields = fields


class CheckSerializer(serializers.Serializer):
    materials = serializers.ListField(
        child=serializers.CharField(max_length=32), required=False, help_text="Material codes; all when omitted."
    )


# --- forecasts ------------------------------------------------------------------------------------


class ForecastSerializer(ModelSerializer):
    material = related_code()
    organization = related_code()
    month = MonthField(read_only=True)
    current = serializers.SerializerMethodField()

    class Meta:
        model = ConsumptionForecast
        fields = ["id", "version", "material", "organization", "month", "quantity", "current", "superseded_by"]
        read_only_fields = fields

    def get_current(self, row) -> bool:
        return row.superseded_by_id is None


class ForecastRowSerializer(serializers.Serializer):
    """One forecast row posted as JSON (supersedes the current row of that material,
    organization and month only)."""

    material = serializers.SlugRelatedField(slug_field="code", queryset=Material.objects.all())
    month = MonthField()
    quantity = serializers.DecimalField(min_value=Decimal("0"), **QUANTITY)
    organization = serializers.SlugRelatedField(
        slug_field="code", queryset=Organization.objects.all(), required=False, allow_null=True, default=None
    )
    note = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


class ForecastUploadSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="CSV with header material,month,quantity[,organization].")
    note = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


class ForecastVersionSerializer(ModelSerializer):
    created_by = serializers.CharField(source="created_by.username", read_only=True)

    class Meta:
        model = ForecastVersion
        fields = ["id", "created_at", "created_by", "source", "note", "row_count", "superseded_count"]
        read_only_fields = fields


# --- inbound and alerts -----------------------------------------------------------------------------


class InboundSerializer(ModelSerializer):
    material = serializers.SlugRelatedField(slug_field="code", queryset=Material.objects.all())
    quantity = serializers.DecimalField(min_value=Decimal("0.001"), **QUANTITY)
    created_by = serializers.CharField(source="created_by.username", read_only=True)

    class Meta:
        model = Inbound
        fields = ["id", "material", "quantity", "expected_date", "confirmed", "note", "created_at", "created_by"]
        read_only_fields = ["id", "created_at", "created_by"]


class InboundUpdateSerializer(serializers.Serializer):
    quantity = serializers.DecimalField(min_value=Decimal("0.001"), required=False, **QUANTITY)
    expected_date = BoundedDateField(required=False)
    confirmed = serializers.BooleanField(required=False)
    note = serializers.CharField(max_length=300, required=False, allow_blank=True)


class AlertSerializer(ModelSerializer):
    material = related_code()
    is_open = serializers.BooleanField(read_only=True)

    class Meta:
        model = Alert
        fields = [
            "id",
            "material",
            "level",
            "is_open",
            "opened_at",
            "resolved_at",
            "forward_days",
            "target_days",
            "notified_at",
            "opened_by_run",
            "resolved_by_run",
        ]
        read_only_fields = fields
