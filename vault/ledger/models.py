from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from vault.core.numbers import MONEY
from vault.ledger.chart import DEBIT_NORMAL, AccountType


class Account(models.Model):
    code = models.CharField(max_length=32, unique=True)
    name = models.CharField(max_length=200)
    type = models.CharField(max_length=12, choices=AccountType.choices)
    is_active = models.BooleanField(default=True)
    is_control = models.BooleanField(
        default=False,
        help_text="Posted only by the process that owns it (loan and interest payable, receivables, inventory): "
        "a manual entry may not touch it. Never switched off once on (PostgreSQL trigger).",
    )
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


class Books(models.Model):
    """The books' lock date: nothing is posted with a business date on or before `closed_through`
    (the services refuse with 409 `period_closed`; on PostgreSQL a trigger on journal entries
    refuses it too, reading this row FOR SHARE so a close waits for the postings in flight and
    those that follow see it). One row (id 1), changed only by a close or an approved reopening,
    each of which appends its PeriodClose row in the same transaction; a PostgreSQL trigger refuses
    an update the last PeriodClose row does not match."""

    closed_through = models.DateField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "books"
        constraints = [models.CheckConstraint(name="books_one_row", condition=Q(id=1))]

    def __str__(self) -> str:
        return f"closed through {self.closed_through}" if self.closed_through else "open"


class PeriodClose(models.Model):
    """The record of every close and reopening of the books, append-only (PostgreSQL triggers).
    A reopening names two different finance users: who asked and who approved (a check
    constraint holds it)."""

    class Kind(models.TextChoices):
        CLOSE = "close", "Close"
        REOPEN = "reopen", "Reopen"

    kind = models.CharField(max_length=8, choices=Kind.choices)
    through = models.DateField(
        null=True, blank=True, help_text="The lock date after this event; empty when a reopening opens every day."
    )
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.CharField(max_length=300, blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(
                name="period_close_four_eyes",
                condition=(Q(kind="close") & Q(through__isnull=False) & Q(approved_by__isnull=True))
                | (Q(kind="reopen") & Q(approved_by__isnull=False) & ~Q(approved_by=models.F("requested_by"))),
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} through {self.through or 'nothing'}"


class Decided(models.Model):
    """A request that a second user decides: its state, who decided and when. `decide` is the one
    way a decision is written."""

    state: models.CharField
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True

    def decide(self, state: str, *, by, **fields) -> None:
        """Record the decision `state` by `by` now, with any other `fields`, and save only those."""
        self.state, self.decided_by, self.decided_at = state, by, timezone.now()
        for name, value in fields.items():
            setattr(self, name, value)
        self.save(update_fields=["state", "decided_by", "decided_at", *fields])


class ReopenRequest(Decided):
    """A finance user's request to move the lock date back to `through` (empty: open every day);
    another finance user approves or rejects it. At most one is pending at a time."""

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"

    through = models.DateField(null=True, blank=True)
    reason = models.CharField(max_length=300)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(auto_now_add=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["state"], condition=Q(state="pending"), name="one_pending_reopen"),
            models.CheckConstraint(
                name="reopen_approved_by_another",
                condition=~Q(state="approved") | ~Q(decided_by=models.F("requested_by")),
            ),
        ]

    def __str__(self) -> str:
        return f"Reopen through {self.through or 'nothing'} ({self.get_state_display()})"


# What a manual entry shows, in the API and in the admin.
MANUAL_ENTRY_FIELDS = [
    "date",
    "memo",
    "lines",
    "state",
    "proposed_by",
    "proposed_at",
    "decided_by",
    "decided_at",
    "decision_note",
    "entry",
]


class ManualEntry(Decided):
    """A manual journal entry as one finance user proposed it; another posts or rejects it
    (four eyes: a check constraint refuses the proposer as the one who posts). `lines` holds
    `[{"account": code, "debit": "…", "credit": "…"}]`; once posted, `entry` is the journal entry."""

    class State(models.TextChoices):
        PROPOSED = "proposed", "Proposed"
        POSTED = "posted", "Posted"
        REJECTED = "rejected", "Rejected"

    date = models.DateField()
    memo = models.CharField(max_length=300)
    lines = models.JSONField()
    proposed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    proposed_at = models.DateTimeField(auto_now_add=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.PROPOSED)
    decision_note = models.CharField(max_length=300, blank=True)
    entry = models.OneToOneField(
        JournalEntry, null=True, blank=True, on_delete=models.PROTECT, related_name="manual_proposal"
    )

    class Meta:
        ordering = ["-id"]
        verbose_name_plural = "manual entries"
        constraints = [
            models.CheckConstraint(
                name="manual_entry_posted_by_another",
                condition=~Q(state="posted")
                | (Q(entry__isnull=False) & Q(decided_by__isnull=False) & ~Q(decided_by=models.F("proposed_by"))),
            )
        ]

    def __str__(self) -> str:
        return f"Manual entry {self.pk} {self.date} {self.memo}"
