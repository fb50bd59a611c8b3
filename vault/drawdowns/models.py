from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q

from vault.core.numbers import MONEY, PERCENT, PRICE, QUANTITY


class ParticipationAgreement(models.Model):
    """An organization's entitlement to draw a material from the stockpile at a locked price,
    against a commitment to replenish it (plus a premium) within `replenishment_days`."""

    organization = models.ForeignKey("accounts.Organization", on_delete=models.PROTECT, related_name="agreements")
    material = models.ForeignKey("inventory.Material", on_delete=models.PROTECT, related_name="agreements")
    quantity = models.DecimalField(help_text="Entitlement, kg.", **QUANTITY)
    locked_price = models.DecimalField(help_text="USD/kg charged on a draw.", **PRICE)
    upfront_fee = models.DecimalField(default=0, help_text="USD, posted when received.", **MONEY)
    fee_received_at = models.DateTimeField(null=True, blank=True)
    replenishment_days = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    premium_pct = models.DecimalField(default=0, help_text="Replenishment premium, %.", **PERCENT)
    active = models.BooleanField(default=True)
    reference = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["organization_id", "material_id", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "material"], condition=Q(active=True), name="drawdowns_one_active_agreement"
            ),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="drawdowns_agreement_quantity_positive"),
            models.CheckConstraint(condition=Q(locked_price__gte=0), name="drawdowns_agreement_price_nonnegative"),
            models.CheckConstraint(condition=Q(upfront_fee__gte=0), name="drawdowns_agreement_fee_nonnegative"),
            models.CheckConstraint(condition=Q(replenishment_days__gt=0), name="drawdowns_agreement_window_positive"),
            models.CheckConstraint(condition=Q(premium_pct__gte=0), name="drawdowns_agreement_premium_nonnegative"),
        ]

    def __str__(self) -> str:
        return f"{self.organization_id}:{self.material_id} {self.quantity} kg"


class DisruptionEvent(models.Model):
    """A major supply disruption declared by a manager for one or more materials. While one is
    active (starts_on <= today <= ends_on) participants may draw their full entitlement without
    a replenishment commitment date."""

    materials = models.ManyToManyField("inventory.Material", related_name="disruptions")
    starts_on = models.DateField()
    ends_on = models.DateField()
    reason = models.TextField()
    reference = models.CharField(max_length=64, blank=True)
    declared_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    declared_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-starts_on", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(ends_on__gte=models.F("starts_on")), name="drawdowns_disruption_dates"),
        ]

    def __str__(self) -> str:
        return f"Disruption {self.starts_on}..{self.ends_on}"


# A status's longest value is "awaiting_second_approval".
STATUS_LENGTH = 32
# Where a request has been approved, and keeps its approval.
APPROVED_STATUSES = ["approved", "fulfilled", "replenished"]


class DrawdownRequest(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        SUBMITTED = "submitted", "Submitted"
        AWAITING_SECOND_APPROVAL = "awaiting_second_approval", "Awaiting second approval"
        APPROVED = "approved", "Approved"
        FULFILLED = "fulfilled", "Fulfilled"
        REPLENISHED = "replenished", "Replenished"
        REJECTED = "rejected", "Rejected"
        CANCELLED = "cancelled", "Cancelled"

    class Priority(models.TextChoices):
        ROUTINE = "routine", "Routine"
        DISRUPTION = "disruption", "Disruption"
        DEFENSE_RATED = "defense-rated", "Defense-rated"

    organization = models.ForeignKey("accounts.Organization", on_delete=models.PROTECT, related_name="drawdowns")
    material = models.ForeignKey("inventory.Material", on_delete=models.PROTECT, related_name="drawdowns")
    agreement = models.ForeignKey(ParticipationAgreement, on_delete=models.PROTECT, related_name="requests")
    quantity = models.DecimalField(help_text="Requested, kg.", **QUANTITY)
    approved_quantity = models.DecimalField(null=True, blank=True, help_text="Approved, kg.", **QUANTITY)
    needed_by = models.DateField()
    priority = models.CharField(max_length=16, choices=Priority.choices, default=Priority.ROUTINE)
    justification = models.TextField(blank=True)
    replenish_by = models.DateField(
        null=True, blank=True, help_text="Replenishment commitment date (required outside a declared disruption)."
    )
    status = models.CharField(max_length=STATUS_LENGTH, choices=Status.choices, default=Status.DRAFT)
    reference = models.CharField(max_length=64, blank=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    # Four eyes (docs/drawdowns.md, "Second approval"): an approval above the limits is a first
    # approval (who, when, how much) that a second manager completes; `approved_by` is the
    # manager whose approval reserved the stock.
    second_approval_required = models.BooleanField(
        default=False, help_text="Set by a first approval above the limits: a second manager must approve."
    )
    first_approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    first_approved_at = models.DateTimeField(null=True, blank=True)
    first_approved_quantity = models.DecimalField(
        null=True, blank=True, help_text="Approved by the first manager, kg.", **QUANTITY
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    fulfilled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["organization", "-id"]),
            models.Index(fields=["status", "-id"]),
            models.Index(fields=["organization", "material", "status"]),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="drawdowns_request_quantity_positive"),
            models.CheckConstraint(
                condition=Q(approved_quantity__isnull=True)
                | Q(approved_quantity__gt=0, approved_quantity__lte=models.F("quantity")),
                name="drawdowns_request_approved_within_requested",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=APPROVED_STATUSES) | Q(approved_quantity__isnull=False),
                name="drawdowns_request_approved_has_quantity",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=APPROVED_STATUSES) | Q(approved_by__isnull=False),
                name="drawdowns_request_approved_has_approver",
            ),
            models.CheckConstraint(
                condition=~Q(status="awaiting_second_approval")
                | Q(
                    second_approval_required=True,
                    first_approved_by__isnull=False,
                    first_approved_at__isnull=False,
                    first_approved_quantity__gt=0,
                    first_approved_quantity__lte=models.F("quantity"),
                    approved_by__isnull=True,
                    approved_quantity__isnull=True,
                ),
                name="drawdowns_request_awaiting_has_first_approval",
            ),
            models.CheckConstraint(
                condition=~Q(second_approval_required=True, status__in=APPROVED_STATUSES)
                | (
                    Q(first_approved_by__isnull=False, approved_by__isnull=False)
                    & ~Q(first_approved_by=models.F("approved_by"))
                    & Q(approved_quantity__lte=models.F("first_approved_quantity"))
                ),
                name="drawdowns_request_second_approval_by_another",
            ),
            models.CheckConstraint(
                condition=(Q(approved_by__isnull=True) | ~Q(approved_by=models.F("requested_by")))
                & (Q(first_approved_by__isnull=True) | ~Q(first_approved_by=models.F("requested_by"))),
                name="drawdowns_request_approver_not_requester",
            ),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def number(self) -> str:
        return f"DR-{self.pk}"


# How a request is shown, in order, by the API (after its id) and the admin (which puts the
# agreement after the parties and the reference last): one list for both.
REQUEST_SHOWN_PARTIES = ("number", "organization", "material")
REQUEST_SHOWN_DETAILS = (
    "quantity",
    "approved_quantity",
    "needed_by",
    "priority",
    "justification",
    "replenish_by",
    "status",
    "requested_by",
    "created_at",
    "submitted_at",
    "second_approval_required",
    "first_approved_by",
    "first_approved_at",
    "first_approved_quantity",
    "approved_by",
    "decided_at",
    "fulfilled_at",
)


class DrawdownTransition(models.Model):
    """One row per change of a request's state (append-only): who, when, from, to, comment."""

    request = models.ForeignKey(DrawdownRequest, on_delete=models.PROTECT, related_name="transitions")
    from_status = models.CharField(max_length=STATUS_LENGTH, blank=True, choices=DrawdownRequest.Status.choices)
    to_status = models.CharField(max_length=STATUS_LENGTH, choices=DrawdownRequest.Status.choices)
    quantity = models.DecimalField(null=True, blank=True, help_text="Approved quantity, on approval.", **QUANTITY)
    comment = models.TextField(blank=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["request", "id"])]

    def __str__(self) -> str:
        return f"{self.request_id}: {self.from_status or '-'} -> {self.to_status}"


class Reservation(models.Model):
    """Stock of one lot held for an approved request; released on cancel, issued on fulfilment."""

    class State(models.TextChoices):
        HELD = "held", "Held"
        RELEASED = "released", "Released (cancelled)"
        ISSUED = "issued", "Issued (fulfilled)"

    request = models.ForeignKey(DrawdownRequest, on_delete=models.PROTECT, related_name="reservations")
    lot = models.ForeignKey("inventory.Lot", on_delete=models.PROTECT, related_name="drawdown_reservations")
    quantity = models.DecimalField(**QUANTITY)
    state = models.CharField(max_length=10, choices=State.choices, default=State.HELD)
    movement = models.OneToOneField(
        "inventory.Movement", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["lot_id"]
        constraints = [
            models.UniqueConstraint(fields=["request", "lot"], name="drawdowns_reservation_unique_lot"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="drawdowns_reservation_quantity_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} kg of lot {self.lot_id} for DR-{self.request_id}"


class ReplenishmentObligation(models.Model):
    """What a fulfilled drawdown owes back in kind: the drawn quantity plus the premium."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        REPLENISHED = "replenished", "Replenished"

    request = models.OneToOneField(DrawdownRequest, on_delete=models.PROTECT, related_name="obligation")
    organization = models.ForeignKey("accounts.Organization", on_delete=models.PROTECT, related_name="obligations")
    material = models.ForeignKey("inventory.Material", on_delete=models.PROTECT, related_name="obligations")
    drawn_quantity = models.DecimalField(**QUANTITY)
    premium_pct = models.DecimalField(**PERCENT)
    premium_quantity = models.DecimalField(**QUANTITY)
    quantity_due = models.DecimalField(help_text="Drawn plus premium, kg.", **QUANTITY)
    replenished_quantity = models.DecimalField(default=0, **QUANTITY)
    unit_price = models.DecimalField(help_text="Locked price, USD/kg, at which the receivable is valued.", **PRICE)
    due_on = models.DateField()
    committed_on = models.DateField(null=True, blank=True, help_text="The participant's commitment date, if any.")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due_on", "id"]
        indexes = [models.Index(fields=["organization", "status", "due_on"])]
        constraints = [
            models.CheckConstraint(condition=Q(drawn_quantity__gt=0), name="drawdowns_obligation_drawn_positive"),
            models.CheckConstraint(
                condition=Q(quantity_due=models.F("drawn_quantity") + models.F("premium_quantity")),
                name="drawdowns_obligation_due_is_drawn_plus_premium",
            ),
            models.CheckConstraint(
                condition=Q(replenished_quantity__gte=0, replenished_quantity__lte=models.F("quantity_due")),
                name="drawdowns_obligation_replenished_within_due",
            ),
        ]

    def __str__(self) -> str:
        return f"Obligation {self.pk} (DR-{self.request_id})"

    @property
    def outstanding(self):
        return self.quantity_due - self.replenished_quantity


class Replenishment(models.Model):
    """A receipt of material in kind against an obligation (the lot it came in as)."""

    obligation = models.ForeignKey(ReplenishmentObligation, on_delete=models.PROTECT, related_name="replenishments")
    lot = models.OneToOneField("inventory.Lot", on_delete=models.PROTECT, related_name="replenishment")
    quantity = models.DecimalField(**QUANTITY)
    received_on = models.DateField()
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="drawdowns_replenishment_quantity_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} kg for obligation {self.obligation_id}"


class IdempotencyKey(models.Model):
    """The first response to a POST sent with an `Idempotency-Key` header, per organization and
    key (the users of one participant share their keys), per user and key for a user of no
    organization (staff). Written in the same transaction as what the POST created, so a replay
    sees both or neither."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", help_text="Who sent it first."
    )
    organization = models.ForeignKey(
        "accounts.Organization",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        help_text="The sender's organization: the key's scope. Empty: the key is the user's alone.",
    )
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64, help_text="SHA-256 of the method, path and body.")
    response_status = models.PositiveSmallIntegerField()
    response_body = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "key"],
                condition=Q(organization__isnull=False),
                name="drawdowns_idempotency_unique_org_key",
            ),
            models.UniqueConstraint(
                fields=["user", "key"],
                condition=Q(organization__isnull=True),
                name="drawdowns_idempotency_unique_user_key",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.organization_id or f'user {self.user_id}'}:{self.key}"
