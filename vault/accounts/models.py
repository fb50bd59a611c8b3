from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from knox.models import AuthToken
from simple_history.models import HistoricalRecords

from vault.accounts.roles import Role


class Organization(models.Model):
    class Kind(models.TextChoices):
        OPERATOR = "operator", "Reserve operator"
        MANUFACTURER = "manufacturer", "Participant manufacturer"
        TRADING_HOUSE = "trading_house", "Trading house"
        LENDER = "lender", "Lender or investor"

    code = models.SlugField(max_length=32, unique=True, help_text="Short stable code, e.g. ACME-MOTORS.")
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.MANUFACTURER)
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} · {self.name}"


class User(AbstractUser):
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, null=True, blank=True, related_name="users"
    )
    role = models.CharField(max_length=20, choices=Role.choices, blank=True)
    history = HistoricalRecords(excluded_fields=["password", "last_login"])

    class Meta:
        constraints = [
            models.CheckConstraint(
                name="manufacturer_has_organization",
                condition=~models.Q(role="manufacturer") | models.Q(organization__isnull=False),
            )
        ]

    def has_role(self, *roles: str) -> bool:
        if self.is_superuser:
            return True
        return self.role in roles


class ApiToken(AuthToken):
    """django-rest-knox's API token as Vault's admin lists it: named by the first characters of
    its key (`token_key`, an identifier, not the secret), never by its digest, which knox's own
    `__str__` shows. The rows are knox's; services create and revoke them."""

    class Meta:
        proxy = True
        verbose_name = "API token"
        ordering = ["-created"]

    def __str__(self) -> str:
        return f"{self.token_key}…"


class SecondFactorEvent(models.Model):
    """One change to a staff user's second factor, or one code refused at the admin login: who,
    when, what, by whom (the user, or the superuser who reset it) and from which address.
    Written only by the services of vault.accounts.services; append-only, in the database too
    (migration 0002)."""

    class Kind(models.TextChoices):
        ENROLLED = "enrolled", "Enrolled an authenticator app"
        BACKUP_CODES = "backup_codes", "New backup codes"
        RESET = "reset", "Second factor reset"
        CODE_REFUSED = "code_refused", "Code refused at login"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="second_factor_events")
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(auto_now_add=True, db_index=True)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    ip_address = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: user {self.user_id} at {self.at:%Y-%m-%d %H:%M}"
