"""Forms of the manufacturers' portal and of the managers' admin pages. They parse input only;
the services check the rules and their errors are shown on the named field."""

from decimal import Decimal

from django import forms
from django.contrib.auth.forms import AuthenticationForm

from vault.accounts.permissions import is_manufacturer
from vault.drawdowns.models import QUANTITY, DrawdownRequest
from vault.inventory.models import Material, Site


class PortalAuthenticationForm(AuthenticationForm):
    """Only manufacturers' users sign in to the portal; staff use the admin."""

    def confirm_login_allowed(self, user):
        super().confirm_login_allowed(user)
        if not is_manufacturer(user):
            raise forms.ValidationError(
                "The portal is for participant manufacturers. Staff sign in to the admin.", code="not_participant"
            )


class DateInput(forms.DateInput):
    input_type = "date"


class DrawdownRequestForm(forms.Form):
    material = forms.ModelChoiceField(
        queryset=Material.objects.none(),
        empty_label="Choose a material",
        help_text="Materials you hold an entitlement in.",
    )
    quantity = forms.DecimalField(
        label="Quantity (kg)", min_value=Decimal("0.001"), help_text="Up to your remaining entitlement.", **QUANTITY
    )
    needed_by = forms.DateField(label="Needed by", widget=DateInput)
    priority = forms.ChoiceField(choices=DrawdownRequest.Priority.choices, initial=DrawdownRequest.Priority.ROUTINE)
    replenish_by = forms.DateField(
        label="Replenishment commitment date",
        required=False,
        widget=DateInput,
        help_text="Required unless a supply disruption is declared for the material; within your replenishment window.",
    )
    justification = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 4}), max_length=5000, help_text="Why you need it now."
    )

    def __init__(self, *args, material_ids=(), **kwargs):
        super().__init__(*args, **kwargs)
        material = self.fields["material"]
        assert isinstance(material, forms.ModelChoiceField)
        material.queryset = Material.objects.filter(pk__in=material_ids).order_by("code")


class CommentForm(forms.Form):
    comment = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)


class RejectForm(forms.Form):
    comment = forms.CharField(
        label="Reason", widget=forms.Textarea(attrs={"rows": 3}), max_length=2000, help_text="Sent to the organization."
    )


class PartialApprovalForm(forms.Form):
    quantity = forms.DecimalField(
        label="Quantity to approve (kg)",
        min_value=Decimal("0.001"),
        help_text="At most the quantity requested.",
        **QUANTITY,
    )
    comment = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)


class ReplenishForm(forms.Form):
    quantity = forms.DecimalField(label="Quantity received (kg)", min_value=Decimal("0.001"), **QUANTITY)
    site = forms.ModelChoiceField(queryset=Site.objects.order_by("code"))
    mining_country = forms.RegexField(r"^[A-Z]{2}$", max_length=2, help_text="ISO 3166 code, e.g. US.")
    processing_country = forms.RegexField(r"^[A-Z]{2}$", max_length=2, help_text="ISO 3166 code, e.g. US.")
    received_date = forms.DateField(required=False, widget=DateInput, help_text="Today when left empty.")
    lot_number = forms.CharField(required=False, max_length=64, help_text="Generated when left empty.")
    supplier = forms.CharField(required=False, max_length=200)
    assay_certificate = forms.CharField(required=False, max_length=100)
    comment = forms.CharField(required=False, max_length=2000)
