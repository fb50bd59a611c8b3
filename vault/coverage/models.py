from django.conf import settings
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from vault.core.numbers import DAYS, QUANTITY, SHARE
from vault.coverage.domain import Status


class ForecastVersion(models.Model):
    """One upload of consumption forecasts (a CSV file, one API row, the command line). Its rows
    supersede the current rows they replace; superseded rows are kept, pointing at this version."""

    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    source = models.CharField(max_length=200, help_text="Where it came from: api, csv:<file>, command:<file>, demo.")
    note = models.CharField(max_length=300, blank=True)
    row_count = models.PositiveIntegerField(default=0)
    superseded_count = models.PositiveIntegerField(default=0, help_text="Current rows this version replaced.")

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"Forecast v{self.pk} ({self.source})"


class ConsumptionForecast(models.Model):
    """Forecast consumption of a material in a month (kg), reserve-wide or from one participant.
    Current rows have no `superseded_by`; there is at most one per material, organization, month."""

    version = models.ForeignKey(ForecastVersion, on_delete=models.PROTECT, related_name="rows")
    material = models.ForeignKey("inventory.Material", on_delete=models.PROTECT, related_name="+")
    organization = models.ForeignKey(
        "accounts.Organization",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The participant the forecast comes from; empty for a reserve-wide forecast.",
    )
    month = models.DateField(help_text="First day of the month.")
    quantity = models.DecimalField(help_text="kg consumed in the month.", **QUANTITY)
    superseded_by = models.ForeignKey(
        ForecastVersion, null=True, blank=True, on_delete=models.PROTECT, related_name="superseded_rows"
    )

    class Meta:
        ordering = ["material_id", "organization_id", "month", "-version_id"]
        indexes = [
            models.Index(
                fields=["material", "month"], condition=Q(superseded_by__isnull=True), name="forecast_current"
            ),
            models.Index(fields=["version"]),
        ]
        constraints = [
            models.CheckConstraint(name="forecast_quantity_not_negative", condition=Q(quantity__gte=0)),
            models.CheckConstraint(name="forecast_month_first_day", condition=Q(month__day=1)),
            models.UniqueConstraint(
                fields=["version", "material", "organization", "month"], name="forecast_unique_row_per_version"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.material_id} {self.month:%Y-%m} {self.quantity} kg"


class Inbound(models.Model):
    """A future receipt (kg) expected on a date; counted in the forward walk when confirmed."""

    material = models.ForeignKey("inventory.Material", on_delete=models.PROTECT, related_name="+")
    quantity = models.DecimalField(**QUANTITY)
    expected_date = models.DateField()
    confirmed = models.BooleanField(default=True, help_text="Only confirmed receipts count in coverage.")
    note = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    history = HistoricalRecords()

    class Meta:
        ordering = ["expected_date", "id"]
        verbose_name_plural = "inbound receipts"
        indexes = [models.Index(fields=["material", "expected_date"])]
        constraints = [models.CheckConstraint(name="inbound_quantity_positive", condition=Q(quantity__gt=0))]

    def __str__(self) -> str:
        return f"{self.quantity} kg of {self.material_id} on {self.expected_date}"


class CoverageRun(models.Model):
    """One coverage check. Written with its snapshots in one transaction: a run row always has
    its complete snapshot set."""

    class Status(models.TextChoices):
        COMPLETED = "completed", "Completed"

    started_at = models.DateTimeField()
    finished_at = models.DateTimeField()
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.COMPLETED)
    as_of = models.DateField(help_text="The day the forward walk starts from.")
    trigger = models.CharField(max_length=40, help_text="schedule, recheck, manual by <user>, demo...")
    material_count = models.PositiveIntegerField(default=0)
    alerts_opened = models.PositiveIntegerField(default=0)
    alerts_resolved = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"Coverage run {self.pk} ({self.as_of})"


class CoverageSnapshot(models.Model):
    run = models.ForeignKey(CoverageRun, on_delete=models.CASCADE, related_name="snapshots")
    material = models.ForeignKey("inventory.Material", on_delete=models.PROTECT, related_name="+")
    computed_at = models.DateTimeField()
    as_of = models.DateField()
    usable_stock = models.DecimalField(**QUANTITY)
    forward_days = models.DecimalField(null=True, blank=True, help_text="Empty: unbounded (no demand).", **DAYS)
    beyond_horizon = models.BooleanField(default=False, help_text="Forward days is a lower bound ('at least').")
    depletion_date = models.DateField(null=True, blank=True)
    trailing_days = models.DecimalField(null=True, blank=True, help_text="Empty: nothing released.", **DAYS)
    released_in_window = models.DecimalField(default=0, **QUANTITY)
    trailing_window_days = models.PositiveIntegerField()
    target_days = models.PositiveIntegerField()
    status = models.CharField(max_length=10, choices=Status.choices)
    mining_shares = models.JSONField(default=dict, help_text="Country -> share of usable stock (0..1).")
    processing_shares = models.JSONField(default=dict)
    china_mining_share = models.DecimalField(default=0, **SHARE)
    china_processing_share = models.DecimalField(default=0, **SHARE)
    concentration_flagged = models.BooleanField(default=False)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["material", "-id"]), models.Index(fields=["as_of"])]
        constraints = [
            models.UniqueConstraint(fields=["run", "material"], name="snapshot_one_per_material_per_run"),
            models.CheckConstraint(
                name="snapshot_status_valid", condition=Q(status__in=[value for value, _ in Status.choices])
            ),
        ]

    def __str__(self) -> str:
        return f"{self.material_id} {self.forward_days} d ({self.status})"

    @property
    def dominant_share(self) -> tuple[str, str, float] | None:
        """(country, "mining" or "processing", share) of the largest single-country share; on a tie,
        mining before processing."""
        shares = [
            (float(share), country, stage)
            for stage, by_country in (("mining", self.mining_shares), ("processing", self.processing_shares))
            for country, share in by_country.items()
        ]
        if not shares:
            return None
        share, country, stage = max(shares, key=lambda item: item[0])
        return country, stage, share


class Alert(models.Model):
    class Level(models.TextChoices):
        WARNING = "warning", "Warning"
        BREACH = "breach", "Breach"

    material = models.ForeignKey("inventory.Material", on_delete=models.PROTECT, related_name="+")
    level = models.CharField(max_length=10, choices=Level.choices)
    opened_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)
    opened_by_run = models.ForeignKey(CoverageRun, on_delete=models.PROTECT, related_name="+")
    resolved_by_run = models.ForeignKey(CoverageRun, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    forward_days = models.DecimalField(null=True, blank=True, help_text="Coverage when opened.", **DAYS)
    target_days = models.PositiveIntegerField()
    notified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-opened_at", "-id"]
        indexes = [models.Index(fields=["material", "-opened_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["material", "level"], condition=Q(resolved_at__isnull=True), name="alert_one_open_per_level"
            ),
            models.CheckConstraint(
                name="alert_resolved_after_opened",
                condition=Q(resolved_at__isnull=True) | Q(resolved_at__gte=models.F("opened_at")),
            ),
        ]

    def __str__(self) -> str:
        state = "open" if self.resolved_at is None else "resolved"
        return f"{self.get_level_display()} {self.material_id} ({state})"

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None
