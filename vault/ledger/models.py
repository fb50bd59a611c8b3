from django.conf import settings
from django.db import models
from django.db.models import Q

from vault.core.numbers import MONEY
from vault.ledger.chart import DEBIT_NORMAL, AccountType


class Account(models.Model):
    code = models.CharField(max_length=32, unique=True)
    name = models.CharField(max_length=200)
    type = models.CharField(max_length=12, choices=AccountType.choices)
    is_active = models.BooleanField(default=True)
    subledger = models.CharField(
        max_length=32,
        blank=True,
        db_index=True,
        help_text="Groups the accounts of one sub-ledger, e.g. the facility code of its loan and interest accounts.",
    )

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    @property
    def debit_normal(self) -> bool:
        return self.type in DEBIT_NORMAL


class JournalEntry(models.Model):
    """A balanced set of journal lines. Posted entries are immutable (PostgreSQL trigger);
    a correction is a new entry whose `reverses` points at the original."""

    date = models.DateField(db_index=True)
    memo = models.CharField(max_length=300)
    source_type = models.CharField(max_length=32, help_text="What caused it: movement, tranche, accrual, fee...")
    source_id = models.BigIntegerField(null=True, blank=True)
    reverses = models.OneToOneField("self", null=True, blank=True, on_delete=models.PROTECT, related_name="reversed_by")
    posted_at = models.DateTimeField(auto_now_add=True)
    posted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["date", "id"]
        verbose_name_plural = "journal entries"
        indexes = [models.Index(fields=["source_type", "source_id"])]

    def __str__(self) -> str:
        return f"{self.number} {self.date} {self.memo}"

    @property
    def number(self) -> str:
        return f"JE-{self.pk:08d}"

    @property
    def source_reference(self) -> str:
        return f"{self.source_type}:{self.source_id}" if self.source_id is not None else self.source_type


class JournalLine(models.Model):
    entry = models.ForeignKey(JournalEntry, on_delete=models.PROTECT, related_name="lines")
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="lines")
    debit = models.DecimalField(default=0, **MONEY)
    credit = models.DecimalField(default=0, **MONEY)

    class Meta:
        ordering = ["entry_id", "id"]
        indexes = [models.Index(fields=["account", "entry"])]
        constraints = [
            models.CheckConstraint(
                name="line_one_side_positive",
                condition=(Q(debit__gt=0) & Q(credit=0)) | (Q(credit__gt=0) & Q(debit=0)),
            )
        ]

    def __str__(self) -> str:
        side = f"Dr {self.debit}" if self.debit else f"Cr {self.credit}"
        return f"{self.account.code} {side}"


class DownloadRecord(models.Model):
    """One download of the ledger or of a statement (a CSV or Excel file, from the API or the
    admin): who, when, what, with which filter. Written only by `download_record` (every file
    response goes through it); append-only, in the database too (migration 0006)."""

    class What(models.TextChoices):
        JOURNAL = "journal", "Journal lines"
        FACILITY_STATEMENT = "facility_statement", "Facility statement"

    class Format(models.TextChoices):
        CSV = "csv", "CSV"
        XLSX = "xlsx", "Excel"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(auto_now_add=True, db_index=True)
    what = models.CharField(max_length=32, choices=What.choices)
    query = models.JSONField(default=dict, blank=True, help_text="The filter parameters, as the request gave them.")
    format = models.CharField(max_length=8, choices=Format.choices)
    row_count = models.PositiveIntegerField(null=True, blank=True, help_text="Empty when the file is streamed.")
    via = models.CharField(max_length=8, choices=[("api", "API"), ("admin", "Admin")])

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_what_display()} ({self.format}) by {self.user_id} at {self.at:%Y-%m-%d %H:%M}"
