"""Admin forms. They only parse input; the services decide and write."""

from decimal import Decimal

from django import forms

from vault.accounts.models import Organization
from vault.financing.models import DayCount, Facility
from vault.inventory.models import Material

MONEY = {"max_digits": 20, "decimal_places": 2, "min_value": Decimal("0.01")}
RATE = {"max_digits": 9, "decimal_places": 6, "min_value": Decimal("0")}
DATE = {"widget": forms.DateInput(attrs={"type": "date"})}


class FacilityAddForm(forms.Form):
    code = forms.CharField(max_length=24, help_text="e.g. EXIM-2026; the ledger accounts take it.")
    name = forms.CharField(max_length=200)
    kind = forms.ChoiceField(choices=Facility.Kind.choices)
    counterparty = forms.CharField(max_length=200, help_text="Lender or investor.")
    commitment = forms.DecimalField(help_text="USD.", **MONEY)
    currency = forms.ChoiceField(choices=Facility.Currency.choices, initial=Facility.Currency.USD)
    interest_rate_pct = forms.DecimalField(
        required=False, help_text="Annual %, loans only; in force from the start of availability.", **RATE
    )
    day_count = forms.ChoiceField(choices=DayCount.choices, initial=DayCount.ACT_360)
    available_from = forms.DateField(**DATE)
    available_until = forms.DateField(**DATE)
    maturity_date = forms.DateField(**DATE)


class FacilityTermsForm(forms.Form):
    name = forms.CharField(max_length=200)
    counterparty = forms.CharField(max_length=200)
    commitment = forms.DecimalField(**MONEY)
    available_until = forms.DateField(**DATE)
    maturity_date = forms.DateField(**DATE)


class RateForm(forms.Form):
    effective_from = forms.DateField(**DATE)
    rate_pct = forms.DecimalField(label="Annual rate, %", **RATE)


class TranchePlanForm(forms.Form):
    facility = forms.ModelChoiceField(queryset=Facility.objects.order_by("code"), to_field_name="code")
    amount = forms.DecimalField(help_text="USD.", **MONEY)
    expected_date = forms.DateField(**DATE)
    purpose = forms.CharField(max_length=300, required=False)


class TrancheDisburseForm(forms.Form):
    date = forms.DateField(help_text="Disbursal date (value date of the cash).", **DATE)


class RepaymentForm(forms.Form):
    facility = forms.ModelChoiceField(queryset=Facility.objects.order_by("code"), to_field_name="code")
    amount = forms.DecimalField(**MONEY)
    date = forms.DateField(**DATE)
    memo = forms.CharField(max_length=300, required=False)


class InterestPaymentForm(forms.Form):
    facility = forms.ModelChoiceField(
        queryset=Facility.objects.filter(kind=Facility.Kind.LOAN).order_by("code"), to_field_name="code"
    )
    amount = forms.DecimalField(**MONEY)
    date = forms.DateField(**DATE)
    memo = forms.CharField(max_length=300, required=False)


class FeeForm(forms.Form):
    organization = forms.ModelChoiceField(queryset=Organization.objects.order_by("code"), to_field_name="code")
    amount = forms.DecimalField(**MONEY)
    date = forms.DateField(**DATE)
    memo = forms.CharField(max_length=300, required=False)


class PricePointForm(forms.Form):
    material = forms.ModelChoiceField(queryset=Material.objects.order_by("code"), to_field_name="code")
    date = forms.DateField(**DATE)
    usd_per_kg = forms.DecimalField(max_digits=14, decimal_places=4, min_value=Decimal("0"), label="USD per kg")
    source = forms.CharField(max_length=100, help_text="Assessment or quote, e.g. 'Fastmarkets'.")


class PriceImportForm(forms.Form):
    file = forms.FileField(help_text="CSV with a header: material,date,usd_per_kg,source (UTF-8).")
    default_source = forms.CharField(
        max_length=100, required=False, help_text="Used for rows without a source (or when the column is absent)."
    )


class StatementForm(forms.Form):
    period = forms.ChoiceField(choices=[("month", "Month"), ("quarter", "Quarter")], initial="month", required=False)
    date_from = forms.DateField(required=False, **DATE)
    date_to = forms.DateField(required=False, **DATE)


class ValuationForm(forms.Form):
    as_of = forms.DateField(required=False, **DATE)
    source = forms.CharField(max_length=100, required=False)
