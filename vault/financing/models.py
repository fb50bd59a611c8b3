"""Financing of the reserve: facilities (the EXIM loan, private capital), their tranches,
repayments, the daily interest accrual and interest payments, fees received, and market prices
of the materials held. Every money event posts a balanced journal entry (vault.ledger) whose
`source_type`/`source_id` point back at the row here."""

from typing import Any

from django.conf import settings
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from simple_history.models import HistoricalRecords

from vault.core.numbers import MONEY, PRICE, RATE

code_format = RegexValidator(r"^[A-Z0-9][A-Z0-9._-]*$", "Use capitals, digits, '.', '_' or '-', e.g. EXIM-2026.")


class DayCount(models.TextChoices):
    ACT_360 = "ACT/360", "Actual/360"
    ACT_365F = "ACT/365F", "Actual/365 Fixed"


DAYS_IN_YEAR: dict[str, int] = {DayCount.ACT_360: 360, DayCount.ACT_365F: 365}


def created_by_field() -> models.ForeignKey[Any, Any]:
    """Who recorded the row (None for the system: the demo data, a command)."""
    return models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )


class Facility(models.Model):
    """A source of funds: a loan drawn in tranches, or a private capital commitment called in
    tranches. `disbursed`, `approved` (approved tranches not yet disbursed: the headroom they
    reserve) and `repaid` are maintained totals written only by the services (and checked against
    their source rows by a PostgreSQL trigger at commit); the database refuses `disbursed` plus
    `approved` above `commitment` and `repaid` above `disbursed`."""

    class Kind(models.TextChoices):
        LOAN = "loan", "Loan"
        PRIVATE_CAPITAL = "private_capital", "Private capital"

    class Currency(models.TextChoices):
        USD = "USD", "US dollar"

    code = models.CharField(max_length=24, unique=True, validators=[code_format])
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    counterparty = models.CharField(max_length=200, help_text="Lender or investor.")
    currency = models.CharField(max_length=3, choices=Currency.choices, default=Currency.USD)
    commitment = models.DecimalField(validators=[MinValueValidator(0)], help_text="USD.", **MONEY)
    available_from = models.DateField(help_text="First day a tranche may be disbursed.")
    available_until = models.DateField(help_text="Last day a tranche may be disbursed.")
    maturity_date = models.DateField()
    day_count = models.CharField(max_length=8, choices=DayCount.choices, default=DayCount.ACT_360)
    account = models.OneToOneField(
        "ledger.Account", on_delete=models.PROTECT, related_name="+", help_text="Loan payable or investor capital."
    )
    interest_account = models.OneToOneField(
        "ledger.Account", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    disbursed = models.DecimalField(default=0, editable=False, **MONEY)
    approved = models.DecimalField(
        default=0, editable=False, help_text="Approved tranches not yet disbursed (reserved).", **MONEY
    )
    repaid = models.DecimalField(default=0, editable=False, **MONEY)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = created_by_field()
    history = HistoricalRecords(excluded_fields=["disbursed", "approved", "repaid"])

    class Meta:
        ordering = ["code"]
        verbose_name_plural = "facilities"
        constraints = [
            models.CheckConstraint(name="facility_commitment_positive", condition=Q(commitment__gt=0)),
            models.CheckConstraint(
                name="facility_disbursed_within_commitment",
                condition=Q(disbursed__gte=0) & Q(disbursed__lte=F("commitment")),
            ),
            models.CheckConstraint(
                name="facility_approved_within_headroom",
                condition=Q(approved__gte=0) & Q(approved__lte=F("commitment") - F("disbursed")),
            ),
            models.CheckConstraint(
                name="facility_repaid_within_disbursed", condition=Q(repaid__gte=0) & Q(repaid__lte=F("disbursed"))
            ),
            models.CheckConstraint(
                name="facility_availability_ordered", condition=Q(available_until__gte=F("available_from"))
            ),
            models.CheckConstraint(
                name="facility_maturity_after_availability", condition=Q(maturity_date__gte=F("available_until"))
            ),
            models.CheckConstraint(name="facility_currency_usd", condition=Q(currency="USD")),
            models.CheckConstraint(
                name="facility_loan_has_interest_account",
                condition=~Q(kind="loan") | Q(interest_account__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} · {self.name}"

    @property
    def outstanding(self):
        return self.disbursed - self.repaid

    @property
    def undrawn(self):
        return self.commitment - self.disbursed

    @property
    def headroom(self):
        """What a new approval may still reserve: the commitment less disbursed and approved."""
        return self.commitment - self.disbursed - self.approved

    @property
    def is_loan(self) -> bool:
        return self.kind == self.Kind.LOAN


class InterestRate(models.Model):
    """The facility's annual rate from `effective_from` until the next row. Rows are added,
    never edited: a rate change is a new row."""

    facility = models.ForeignKey(Facility, on_delete=models.PROTECT, related_name="rates")
    effective_from = models.DateField()
    rate_pct = models.DecimalField(help_text="Annual rate, percent (4.25 = 4.25%).", **RATE)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = created_by_field()

    class Meta:
        ordering = ["facility_id", "effective_from"]
        constraints = [
            models.UniqueConstraint(fields=["facility", "effective_from"], name="interest_rate_one_per_day"),
            models.CheckConstraint(name="interest_rate_in_range", condition=Q(rate_pct__gte=0, rate_pct__lt=100)),
        ]

    def __str__(self) -> str:
        return f"{self.rate_pct}% from {self.effective_from}"


def user_field() -> models.ForeignKey[Any, Any]:
    """A user recorded by a step of a workflow (empty until the step happens)."""
    return models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+", editable=False
    )


# Who did each step of a tranche's four eyes, and when: shown alike by the API and the admin.
TRANCHE_FOUR_EYES_FIELDS = [
    "created_by",
    "created_at",
    "approved_by",
    "approved_at",
    "disbursement_requested_by",
    "disbursement_requested_at",
    "disbursement_date",
    "disbursed_by",
    "disbursed_at",
]
TRANCHE_FIELDS = ["facility", "amount", "expected_date", "actual_date", "purpose", "status", *TRANCHE_FOUR_EYES_FIELDS]


class Tranche(models.Model):
    """A draw on a facility: planned -> approved -> disbursed, or cancelled before disbursal.

    Four eyes: the approver is a finance user other than the planner (`created_by`); a
    disbursement above VAULT_DISBURSEMENT_SECOND_APPROVAL_USD is requested by one finance user
    (`disbursement_requested_*`, with the value date asked for) and posted by another
    (`disbursed_by`). Check constraints hold both; the history records every step."""

    class Status(models.TextChoices):
        PLANNED = "planned", "Planned"
        APPROVED = "approved", "Approved"
        DISBURSED = "disbursed", "Disbursed"
        CANCELLED = "cancelled", "Cancelled"

    facility = models.ForeignKey(Facility, on_delete=models.PROTECT, related_name="tranches")
    amount = models.DecimalField(help_text="USD.", **MONEY)
    expected_date = models.DateField()
    actual_date = models.DateField(null=True, blank=True, help_text="Disbursal date.")
    purpose = models.CharField(max_length=300, blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PLANNED)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = created_by_field()
    approved_by = user_field()
    approved_at = models.DateTimeField(null=True, blank=True, editable=False)
    disbursement_requested_by = user_field()
    disbursement_requested_at = models.DateTimeField(null=True, blank=True, editable=False)
    disbursement_date = models.DateField(
        null=True, blank=True, editable=False, help_text="Value date of the disbursement requested."
    )
    disbursed_by = user_field()
    disbursed_at = models.DateTimeField(null=True, blank=True, editable=False)
    history = HistoricalRecords()

    class Meta:
        ordering = ["facility_id", "expected_date", "id"]
        indexes = [models.Index(fields=["facility", "status"])]
        constraints = [
            models.CheckConstraint(name="tranche_amount_positive", condition=Q(amount__gt=0)),
            models.CheckConstraint(
                name="tranche_disbursed_has_date",
                condition=(Q(status="disbursed") & Q(actual_date__isnull=False))
                | (~Q(status="disbursed") & Q(actual_date__isnull=True)),
            ),
            models.CheckConstraint(
                name="tranche_approved_by_another",
                condition=~Q(status="approved") | (Q(approved_by__isnull=False) & Q(approved_at__isnull=False)),
            ),
            models.CheckConstraint(
                name="tranche_approver_not_planner",
                condition=Q(approved_by__isnull=True) | Q(created_by__isnull=True) | ~Q(approved_by=F("created_by")),
            ),
            models.CheckConstraint(
                name="tranche_disbursement_request_whole",
                condition=(
                    Q(disbursement_requested_by__isnull=True)
                    & Q(disbursement_requested_at__isnull=True)
                    & Q(disbursement_date__isnull=True)
                )
                | (
                    Q(disbursement_requested_by__isnull=False)
                    & Q(disbursement_requested_at__isnull=False)
                    & Q(disbursement_date__isnull=False)
                ),
            ),
            models.CheckConstraint(
                name="tranche_disbursed_by_another",
                condition=Q(disbursement_requested_by__isnull=True)
                | Q(disbursed_by__isnull=True)
                | ~Q(disbursed_by=F("disbursement_requested_by")),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.facility_id}#{self.pk} {self.amount} {self.status}"

    @property
    def disbursement_pending(self) -> bool:
        """A disbursement was requested and waits for a second finance user."""
        return self.status == self.Status.APPROVED and self.disbursement_date is not None


class FacilityPayment(models.Model):
    """Money paid on a facility on a day, by whom: the shape of repayments and interest
    payments (append-only in the database: financing/migrations/0002_triggers.py)."""

    amount = models.DecimalField(**MONEY)
    date = models.DateField()
    memo = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = created_by_field()

    facility_id: int
    paid = "paid"  # what __str__ says of the amount

    class Meta:
        abstract = True
        ordering = ["facility_id", "date", "id"]

    def __str__(self) -> str:
        return f"{self.facility_id} {self.paid} {self.amount} on {self.date}"


class Repayment(FacilityPayment):
    """Principal paid back (a loan) or capital returned (private capital)."""

    facility = models.ForeignKey(Facility, on_delete=models.PROTECT, related_name="repayments")
    paid = "repaid"

    class Meta(FacilityPayment.Meta):
        constraints = [models.CheckConstraint(name="repayment_amount_positive", condition=Q(amount__gt=0))]


class InterestAccrual(models.Model):
    """One day of interest on a loan: principal outstanding at the end of `date` x rate in force
    that day / days in the convention's year, plus the previous day's sub-cent `carry`, rounded
    half-up to the cent; what the rounding leaves is this day's `carry`. Exactly one row per
    facility per day (unique constraint); posted Dr interest expense / Cr interest payable
    unless zero."""

    facility = models.ForeignKey(Facility, on_delete=models.PROTECT, related_name="accruals")
    date = models.DateField()
    principal = models.DecimalField(**MONEY)
    rate_pct = models.DecimalField(**RATE)
    day_count = models.CharField(max_length=8, choices=DayCount.choices)
    amount = models.DecimalField(**MONEY)
    carry = models.DecimalField(
        max_digits=24,
        decimal_places=12,
        default=0,
        help_text="The sub-cent remainder carried to the next day: this day's exact interest plus the previous "
        "day's carry, less the amount accrued (so a period's interest is its exact interest rounded once).",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["facility_id", "date"]
        constraints = [
            models.UniqueConstraint(fields=["facility", "date"], name="interest_accrual_one_per_day"),
            models.CheckConstraint(
                name="interest_accrual_not_negative", condition=Q(amount__gte=0, principal__gte=0, rate_pct__gte=0)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.facility_id} {self.date} {self.amount}"


class InterestPayment(FacilityPayment):
    """Accrued interest paid to the lender (Dr interest payable / Cr cash)."""

    facility = models.ForeignKey(Facility, on_delete=models.PROTECT, related_name="interest_payments")
    paid = "interest paid"

    class Meta(FacilityPayment.Meta):
        constraints = [models.CheckConstraint(name="interest_payment_amount_positive", condition=Q(amount__gt=0))]


class FeeReceipt(models.Model):
    """A fee received from a participant (Dr cash / Cr fee income); `source_type`/`source_id`
    name what it was paid for (e.g. a participation agreement), as on its journal entry."""

    organization = models.ForeignKey("accounts.Organization", on_delete=models.PROTECT, related_name="fees")
    amount = models.DecimalField(**MONEY)
    date = models.DateField()
    memo = models.CharField(max_length=300, blank=True)
    source_type = models.CharField(max_length=32)
    source_id = models.BigIntegerField(null=True, blank=True)
    entry = models.OneToOneField("ledger.JournalEntry", on_delete=models.PROTECT, related_name="fee_receipt")
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = created_by_field()

    class Meta:
        ordering = ["-date", "-id"]
        indexes = [models.Index(fields=["source_type", "source_id"])]
        constraints = [
            models.CheckConstraint(name="fee_amount_positive", condition=Q(amount__gt=0)),
            models.UniqueConstraint(
                fields=["source_type", "source_id"], condition=Q(source_id__isnull=False), name="fee_one_per_source"
            ),
        ]

    def __str__(self) -> str:
        return f"Fee {self.amount} from {self.organization_id} on {self.date}"


# The version record of a price point, read-only wherever a price is shown (API, admin).
PRICE_VERSION_FIELDS = (
    "version",
    "supersedes",
    "withdrawn",
    "status",
    "created_at",
    "created_by",
    "confirmed_by",
    "confirmed_at",
)


class PricePoint(models.Model):
    """A market price of a material on a date from one source (an assessment, a quote), one
    version of it. Append-only: a correction (or a withdrawal) of a (material, date, source) is a
    new version superseding the one in force, never an edit; the only change a row ever takes is
    the decision on a pending version (confirmed or rejected by a second user, PostgreSQL trigger
    `financing_pricepoint_guard`). A version is in force from `confirmed_at` (its recording time
    when it needed no second user); a valuation as known at a moment reads the versions in force then."""

    class Status(models.TextChoices):
        PENDING = "pending", "pending a second user"
        CONFIRMED = "confirmed", "confirmed"
        REJECTED = "rejected", "rejected"

    material = models.ForeignKey("inventory.Material", on_delete=models.PROTECT, related_name="prices")
    date = models.DateField()
    usd_per_kg = models.DecimalField(validators=[MinValueValidator(0)], **PRICE)
    source = models.CharField(max_length=100, help_text="Assessment or quote, e.g. 'Fastmarkets NdPr oxide'.")
    version = models.PositiveIntegerField(default=1)
    supersedes = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="corrections")
    withdrawn = models.BooleanField(default=False, help_text="A withdrawal: the day and source have no price.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.CONFIRMED)
    created_at = models.DateTimeField(auto_now_add=True, verbose_name="recorded at")
    created_by = created_by_field()
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="The second user who confirmed (or rejected) a pending version.",
    )
    confirmed_at = models.DateTimeField(null=True, blank=True, help_text="In force from (or rejected at).")

    class Meta:
        ordering = ["material_id", "-date", "-id"]
        indexes = [models.Index(fields=["material", "-date", "-id"])]
        constraints = [
            models.UniqueConstraint(fields=["material", "date", "source", "version"], name="price_point_one_version"),
            models.UniqueConstraint(
                fields=["material", "date", "source"],
                condition=Q(status="pending"),
                name="price_point_one_pending",
            ),
            models.CheckConstraint(name="price_point_not_negative", condition=Q(usd_per_kg__gte=0)),
            models.CheckConstraint(
                name="price_point_confirmed_by_another",
                condition=Q(confirmed_by__isnull=True) | Q(created_by__isnull=True) | ~Q(confirmed_by=F("created_by")),
            ),
            models.CheckConstraint(
                name="price_point_decision_whole",
                condition=Q(status="pending", confirmed_by__isnull=True, confirmed_at__isnull=True)
                | Q(status="confirmed", confirmed_at__isnull=False)
                | Q(status="rejected", confirmed_by__isnull=False, confirmed_at__isnull=False),
            ),
            models.CheckConstraint(
                name="price_point_correction_confirmed_by_another",
                condition=Q(supersedes__isnull=True) | ~Q(status="confirmed") | Q(confirmed_by__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        what = "withdrawn" if self.withdrawn else self.usd_per_kg
        return f"{self.material_id} {self.date} {what} ({self.source}) v{self.version} {self.status}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        # A version needing no second user is in force from when it is recorded.
        if self._state.adding and self.status == self.Status.CONFIRMED and self.confirmed_at is None:
            self.confirmed_at = timezone.now()
        super().save(*args, **kwargs)
