"""Admin forms. They only parse input; the services decide and write."""

from decimal import Decimal
from typing import Any

from django import forms

from vault.accounts.models import Organization
from vault.core.numbers import NON_NEGATIVE_RATE, POSITIVE_MONEY
from vault.financing.models import DayCount, Facility
from vault.inventory.models import Material


def date_field(**kwargs: Any) -> forms.DateField:
    """A date with the browser's date picker."""
    return forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), **kwargs)


class FacilityAddForm(forms.Form):
    code = forms.CharField(max_length=24, help_text="e.g. EXIM-2026; the ledger accounts take it.")
    name = forms.CharField(max_length=200)
    kind = forms.ChoiceField(choices=Facility.Kind.choices)
    counterparty = forms.CharField(max_length=200, help_text="Lender or investor.")
    commitment = forms.DecimalField(help_text="USD.", **POSITIVE_MONEY)
    currency = forms.ChoiceField(choices=Facility.Currency.choices, initial=Facility.Currency.USD)
    interest_rate_pct = forms.DecimalField(
        required=False, help_text="Annual %, loans only; in force from the start of availability.", **NON_NEGATIVE_RATE
    )
    day_count = forms.ChoiceField(choices=DayCount.choices, initial=DayCount.ACT_360)
    available_from = date_field()
    available_until = date_field()
    maturity_date = date_field()


class FacilityTermsForm(forms.Form):
    name = forms.CharField(max_length=200)
    counterparty = forms.CharField(max_length=200)
    commitment = forms.DecimalField(**POSITIVE_MONEY)
    available_until = date_field()
    maturity_date = date_field()


class RateForm(forms.Form):
    effective_from = date_field()
    rate_pct = forms.DecimalField(label="Annual rate, %", **NON_NEGATIVE_RATE)


class TranchePlanForm(forms.Form):
    facility = forms.ModelChoiceField(queryset=Facility.objects.order_by("code"), to_field_name="code")
    amount = forms.DecimalField(help_text="USD.", **POSITIVE_MONEY)
    expected_date = date_field()
    purpose = forms.CharField(max_length=300, required=False)


class TrancheDisburseForm(forms.Form):
    date = date_field(help_text="Disbursal date (value date of the cash).")


class _PaymentForm(forms.Form):
    """Money paid or received on a day; the subclass adds who pays (shown first)."""

    field_order = ["facility", "organization"]
    amount = forms.DecimalField(**POSITIVE_MONEY)
    date = date_field()
    memo = forms.CharField(max_length=300, required=False)


class RepaymentForm(_PaymentForm):
    facility = forms.ModelChoiceField(queryset=Facility.objects.order_by("code"), to_field_name="code")


class InterestPaymentForm(_PaymentForm):
    facility = forms.ModelChoiceField(
        queryset=Facility.objects.filter(kind=Facility.Kind.LOAN).order_by("code"), to_field_name="code"
    )


class FeeForm(_PaymentForm):
    organization = forms.ModelChoiceField(queryset=Organization.objects.order_by("code"), to_field_name="code")


class PricePointForm(forms.Form):
    material = forms.ModelChoiceField(queryset=Material.objects.order_by("code"), to_field_name="code")
    date = date_field()
    usd_per_kg = forms.DecimalField(max_digits=14, decimal_places=4, min_value=Decimal("0"), label="USD per kg")
    source = forms.CharField(max_length=100, help_text="Assessment or quote, e.g. 'Fastmarkets'.")


class PriceImportForm(forms.Form):
    file = forms.FileField(help_text="CSV with a header: material,date,usd_per_kg,source (UTF-8).")
    default_source = forms.CharField(
        max_length=100, required=False, help_text="Used for rows without a source (or when the column is absent)."
    )


class StatementForm(forms.Form):
    period = forms.ChoiceField(choices=[("month", "Month"), ("quarter", "Quarter")], initial="month", required=False)
    date_from = date_field(required=False)
    date_to = date_field(required=False)


class ValuationForm(forms.Form):
    as_of = date_field(required=False)
    source = forms.CharField(max_length=100, required=False)
    known_at = forms.DateTimeField(required=False, help_text="The prices as known at this moment (default: now).")
