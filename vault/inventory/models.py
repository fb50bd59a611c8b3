from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.db.models import F, Q
from simple_history.models import HistoricalRecords

from vault.core.numbers import MONEY, PRICE, QUANTITY

country_code = RegexValidator(r"^[A-Z]{2}$", "Use a two-letter ISO 3166 country code, e.g. US.")
code_format = RegexValidator(r"^[A-Z0-9][A-Z0-9._-]*$", "Use capitals, digits, '.', '_' or '-', e.g. NDPR-OX.")


def value_at_cost(quantity: Decimal, unit_cost: Decimal) -> Decimal:
    """The cost of a quantity in USD, rounded to the cent (half up)."""
    return (quantity * unit_cost).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


class CatalogueRow(models.Model):
    """What materials and sites share: a code, their natural key in the API, and a name."""

    # Immutable once the row exists (a trigger refuses a rename, 0004).
    code = models.CharField(max_length=32, unique=True, validators=[code_format])
    name = models.CharField(max_length=200)

    class Meta:
        abstract = True
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code


class Material(CatalogueRow):
    class Form(models.TextChoices):
        OXIDE = "oxide", "Oxide"
        METAL = "metal", "Metal"
        ALLOY = "alloy", "Alloy"
        MAGNET = "magnet", "Magnet block"
        CONCENTRATE = "concentrate", "Concentrate"
        CARBONATE = "carbonate", "Carbonate"
        HYDROXIDE = "hydroxide", "Hydroxide"
        OTHER = "other", "Other"

    form = models.CharField(max_length=20, choices=Form.choices)
    grade = models.CharField(max_length=50, blank=True, help_text="Purity or grade, e.g. 99.5%.")
    unit = models.CharField(max_length=8, default="kg", editable=False)
    coverage_target_days = models.PositiveIntegerField(
        default=60, validators=[MinValueValidator(1)], help_text="Days of forecast demand the stock should cover."
    )
    price_floor = models.DecimalField(
        null=True, blank=True, validators=[MinValueValidator(0)], help_text="Optional price floor, USD/kg.", **PRICE
    )
    history = HistoricalRecords()


class Site(CatalogueRow):
    country = models.CharField(max_length=2, validators=[country_code])
    custodian = models.CharField(max_length=200, blank=True)
    capacity_kg = models.DecimalField(
        null=True, blank=True, validators=[MinValueValidator(0)], help_text="Optional storage capacity.", **QUANTITY
    )
    history = HistoricalRecords()


class Lot(models.Model):
    """A quantity of one material, from one origin, held at one site. `on_hand` and `reserved`
    are maintained balances written only by the inventory services, never typed in."""

    class Status(models.TextChoices):
        AVAILABLE = "available", "Available"
        QUARANTINE = "quarantine", "Quarantine"
        DAMAGED = "damaged", "Damaged"

    lot_number = models.CharField(max_length=64, unique=True)
    material = models.ForeignKey(Material, on_delete=models.PROTECT, related_name="lots")
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="lots")
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="transferred_lots",
        help_text="The lot this one was transferred out of.",
    )
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.AVAILABLE)
    mining_country = models.CharField(max_length=2, validators=[country_code])
    processing_country = models.CharField(max_length=2, validators=[country_code])
    supplier = models.CharField(max_length=200, blank=True)
    received_date = models.DateField()
    unit_cost = models.DecimalField(validators=[MinValueValidator(0)], help_text="USD per kg.", **PRICE)
    assay_certificate = models.CharField(max_length=100, blank=True)
    on_hand = models.DecimalField(default=0, editable=False, **QUANTITY)
    reserved = models.DecimalField(default=0, editable=False, **QUANTITY)
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords(excluded_fields=["on_hand", "reserved"])

    class Meta:
        ordering = ["received_date", "id"]
        indexes = [models.Index(fields=["material", "site"]), models.Index(fields=["site"])]
        constraints = [
            models.CheckConstraint(name="lot_on_hand_not_negative", condition=Q(on_hand__gte=0)),
            models.CheckConstraint(
                name="lot_reserved_within_on_hand", condition=Q(reserved__gte=0, reserved__lte=F("on_hand"))
            ),
            models.CheckConstraint(name="lot_unit_cost_not_negative", condition=Q(unit_cost__gte=0)),
        ]

    def __str__(self) -> str:
        return self.lot_number

    @property
    def is_available(self) -> bool:
        return self.status == self.Status.AVAILABLE

    @property
    def free(self) -> Decimal:
        """What can leave the lot without touching reservations."""
        return self.on_hand - self.reserved


# What a lot says of its origin: typed in when it is created, kept by the lots transferred out of it.
LOT_ORIGIN_FIELDS = (
    "mining_country",
    "processing_country",
    "supplier",
    "received_date",
    "unit_cost",
    "assay_certificate",
)
# What a lot is created with: `lot_create`'s arguments, the admin's add form and the API's fields.
LOT_INPUT_FIELDS = ("lot_number", "material", "site", "status", *LOT_ORIGIN_FIELDS)


class Movement(models.Model):
    """One row of the append-only stock ledger. `quantity` is signed (+ in, - out) and
    `balance_after` is the lot's on-hand right after it (in the order recorded). `business_date`
    is the day the stock moved, `created_at` the moment it was recorded: a backdated movement has
    an earlier business date than its recording, never a future one. Rows are never edited or deleted
    (PostgreSQL trigger); a mistake is corrected by a reversal pointing at the original."""

    class Kind(models.TextChoices):
        RECEIPT = "receipt", "Receipt"
        TRANSFER = "transfer", "Transfer"
        ADJUSTMENT = "adjustment", "Adjustment"
        WRITE_OFF = "write_off", "Write-off"
        RELEASE = "release", "Release"
        REVERSAL = "reversal", "Reversal"

    kind = models.CharField(max_length=12, choices=Kind.choices)
    # No single-column indexes on these: the composite indexes below start with each of them.
    lot = models.ForeignKey(Lot, on_delete=models.PROTECT, related_name="movements", db_index=False)
    material = models.ForeignKey(Material, on_delete=models.PROTECT, related_name="+", db_index=False)
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="+", db_index=False)
    quantity = models.DecimalField(**QUANTITY)
    balance_after = models.DecimalField(**QUANTITY)
    value = models.DecimalField(default=0, help_text="Signed change of the lot's value at cost, USD.", **MONEY)
    reason = models.CharField(max_length=300, blank=True)
    reference = models.CharField(max_length=100, blank=True, help_text="External or drawdown reference.")
    counterpart = models.OneToOneField(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The other leg of a transfer.",
    )
    reverses = models.OneToOneField("self", null=True, blank=True, on_delete=models.PROTECT, related_name="reversed_by")
    business_date = models.DateField(
        help_text="The day the stock moved (its value date): what reports as of a date and its journal entry use."
    )
    created_at = models.DateTimeField(auto_now_add=True, help_text="When the movement was recorded.")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["-id"]
        indexes = [
            # Newest first within a filter: a page of a filtered list reads one index range.
            models.Index(fields=["material", "site", "-id"]),
            models.Index(fields=["material", "-id"]),
            models.Index(fields=["site", "-id"]),
            models.Index(fields=["lot", "-id"]),
            models.Index(fields=["kind", "-id"]),
            models.Index(fields=["created_at"]),
            models.Index(fields=["business_date"]),
            # Drawdown and purchase references, looked up exactly; most movements have none.
            models.Index(fields=["reference"], name="inventory_movement_reference", condition=~Q(reference="")),
        ]
        constraints = [
            models.CheckConstraint(name="movement_quantity_not_zero", condition=~Q(quantity=0)),
            models.CheckConstraint(name="movement_balance_not_negative", condition=Q(balance_after__gte=0)),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.quantity} kg of {self.lot_id}"


class Position(models.Model):
    """Maintained balance per material and site, updated in the same transaction as every
    movement, reservation and lot status change; equal to the sum of its lots at all times."""

    material = models.ForeignKey(Material, on_delete=models.PROTECT, related_name="positions")
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="positions")
    on_hand = models.DecimalField(default=0, **QUANTITY)
    reserved = models.DecimalField(default=0, **QUANTITY)
    unavailable = models.DecimalField(default=0, help_text="On hand in quarantined or damaged lots.", **QUANTITY)
    available = models.GeneratedField(
        expression=F("on_hand") - F("reserved") - F("unavailable"),
        output_field=models.DecimalField(**QUANTITY),
        db_persist=True,
    )

    class Meta:
        ordering = ["material__code", "site__code"]
        constraints = [
            models.UniqueConstraint(fields=["material", "site"], name="position_unique_material_site"),
            models.CheckConstraint(
                name="position_balances_consistent",
                condition=Q(on_hand__gte=0, reserved__gte=0, unavailable__gte=0)
                & Q(on_hand__gte=F("reserved") + F("unavailable")),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.material_id}@{self.site_id}"
