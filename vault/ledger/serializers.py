from __future__ import annotations

from decimal import Decimal
from typing import Any

from rest_framework import serializers

from vault.core.numbers import MONEY
from vault.core.serializers import BoundedDateField, ModelSerializer
from vault.ledger.models import (
    MANUAL_ENTRY_FIELDS,
    Account,
    JournalEntry,
    JournalLine,
    ManualEntry,
    PeriodClose,
    ReopenRequest,
)
from vault.ledger.selectors import normal_balance


class CodeRelatedField(serializers.SlugRelatedField):
    """A related object named by its code. A code with a NUL character (which PostgreSQL text
    cannot hold, so the lookup would fail with a 500) is simply not found."""

    def __init__(self, **kwargs):
        kwargs.setdefault("slug_field", "code")
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if isinstance(data, str) and "\x00" in data:
            self.fail("does_not_exist", slug_name=self.slug_field, value=data.replace("\x00", ""))
        return super().to_internal_value(data)


class JournalLineSerializer(ModelSerializer):
    account = serializers.CharField(source="account.code", read_only=True)
    account_name = serializers.CharField(source="account.name", read_only=True)

    class Meta:
        model = JournalLine
        fields = ["id", "account", "account_name", "debit", "credit"]
        read_only_fields = fields


class JournalEntrySerializer(ModelSerializer):
    number = serializers.CharField(read_only=True)
    source_reference = serializers.CharField(read_only=True)
    posted_by = serializers.CharField(source="posted_by.username", read_only=True, default=None, allow_null=True)
    lines = JournalLineSerializer(many=True, read_only=True)

    class Meta:
        model = JournalEntry
        fields = [
            "id",
            "number",
            "date",
            "memo",
            "source_type",
            "source_id",
            "source_reference",
            "reverses",
            "posted_at",
            "posted_by",
            "lines",
        ]
        read_only_fields = fields


class LineInputSerializer(serializers.Serializer):
    account = CodeRelatedField(queryset=Account.objects.filter(is_active=True))
    debit = serializers.DecimalField(min_value=Decimal("0"), default=Decimal("0"), **MONEY)
    credit = serializers.DecimalField(min_value=Decimal("0"), default=Decimal("0"), **MONEY)


class ManualEntrySerializer(serializers.Serializer):
    date = BoundedDateField()
    memo = serializers.CharField(max_length=300)
    lines: serializers.ListSerializer[Any] = serializers.ListSerializer(child=LineInputSerializer(), min_length=2)


class EntryReverseSerializer(serializers.Serializer):
    date = BoundedDateField(required=False, help_text="Defaults to today.")
    memo = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


class AccountBalanceSerializer(ModelSerializer):
    debits = serializers.DecimalField(read_only=True, **MONEY)
    credits = serializers.DecimalField(read_only=True, **MONEY)
    balance = serializers.SerializerMethodField(help_text="On the account's normal side (debit for assets, expenses).")

    class Meta:
        model = Account
        fields = ["code", "name", "type", "subledger", "is_active", "debits", "credits", "balance"]
        read_only_fields = fields

    def get_balance(self, account) -> str:
        return f"{normal_balance(account, account.debits, account.credits):.2f}"


class AsOfSerializer(serializers.Serializer):
    as_of = BoundedDateField(required=False, allow_null=True, default=None)


class LedgerExportQuerySerializer(serializers.Serializer):
    facility = serializers.CharField(required=False, help_text="Facility code: entries touching its accounts.")
    account = CodeRelatedField(queryset=Account.objects.all(), required=False, help_text="Account code.")
    date_from = BoundedDateField(required=False)
    date_to = BoundedDateField(required=False)

    def validate_facility(self, value: str) -> str:
        if not Account.objects.filter(subledger=value).exists():
            raise serializers.ValidationError(f"No facility {value!r} in the ledger.")
        return value

    def validate(self, attrs):
        if attrs.get("date_from") and attrs.get("date_to") and attrs["date_from"] > attrs["date_to"]:
            raise serializers.ValidationError({"date_to": ["Must be on or after date_from."]})
        return attrs


class TrialBalanceRowSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    type = serializers.CharField()
    debit = serializers.DecimalField(**MONEY)
    credit = serializers.DecimalField(**MONEY)


class TrialBalanceSerializer(serializers.Serializer):
    as_of = BoundedDateField(allow_null=True)
    rows = TrialBalanceRowSerializer(many=True)
    total_debit = serializers.DecimalField(**MONEY)
    total_credit = serializers.DecimalField(**MONEY)
    balanced = serializers.BooleanField()


class PeriodCloseSerializer(ModelSerializer):
    requested_by = serializers.CharField(source="requested_by.username", read_only=True)
    approved_by = serializers.CharField(source="approved_by.username", read_only=True, default=None, allow_null=True)

    class Meta:
        model = PeriodClose
        fields = ["id", "kind", "through", "requested_by", "approved_by", "reason", "at"]
        read_only_fields = fields


class PeriodCloseInputSerializer(serializers.Serializer):
    through = BoundedDateField(help_text="The last day closed: nothing posts on or before it afterwards.")


class ReopenRequestSerializer(ModelSerializer):
    requested_by = serializers.CharField(source="requested_by.username", read_only=True)
    decided_by = serializers.CharField(source="decided_by.username", read_only=True, default=None, allow_null=True)

    class Meta:
        model = ReopenRequest
        fields = ["id", "through", "reason", "state", "requested_by", "requested_at", "decided_by", "decided_at"]
        read_only_fields = fields


class ReopenRequestInputSerializer(serializers.Serializer):
    through = BoundedDateField(
        allow_null=True, help_text="The lock date after the reopening (before today's); null opens every day."
    )
    reason = serializers.CharField(max_length=300)


class ManualEntryProposalSerializer(ModelSerializer):
    proposed_by = serializers.CharField(source="proposed_by.username", read_only=True)
    decided_by = serializers.CharField(source="decided_by.username", read_only=True, default=None, allow_null=True)

    class Meta:
        model = ManualEntry
        fields = ["id", *MANUAL_ENTRY_FIELDS]
        read_only_fields = fields


class DecisionNoteSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
