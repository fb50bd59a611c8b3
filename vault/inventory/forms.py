"""Admin forms of the holdings. They parse input only; the services check the rules, and the
admin (vault.core.admin.ServiceFormMixin) shows what a service refuses on the named field."""

from django import forms

from vault.core.filters import BoundedDateField
from vault.inventory.models import LOT_INPUT_FIELDS, QUANTITY, Lot, Movement, Site
from vault.inventory.services import CREATABLE_KINDS


class MovementForm(forms.Form):
    """Record a movement in the admin; saved by the same service as the API."""

    kind = forms.ChoiceField(choices=[(k.value, k.label) for k in CREATABLE_KINDS])
    lot = forms.ModelChoiceField(queryset=Lot.objects.select_related("material", "site").order_by("lot_number"))
    quantity = forms.DecimalField(help_text="kg; an adjustment may be negative.", **QUANTITY)
    to_site = forms.ModelChoiceField(queryset=Site.objects.all(), required=False, help_text="Transfers only.")
    reason = forms.CharField(max_length=300, required=False, help_text="Required for adjustments and write-offs.")
    reference = forms.CharField(max_length=100, required=False)
    business_date = BoundedDateField(required=False, help_text="The day the stock moved (YYYY-MM-DD); default: today.")


class MovementReverseForm(forms.Form):
    reason = forms.CharField(max_length=300, widget=forms.TextInput(attrs={"size": 60}))
    business_date = BoundedDateField(
        required=False, help_text="Default: today; a day in a closed period moves to the first open day."
    )


class LotAddForm(forms.ModelForm):
    """Add a lot, with its initial receipt: its cleaned data are `lot_create`'s arguments."""

    initial_quantity = forms.DecimalField(
        required=False, min_value=0.001, help_text="kg received with the lot (a receipt movement).", **QUANTITY
    )

    class Meta:
        model = Lot
        fields = list(LOT_INPUT_FIELDS)


__all__ = ["LotAddForm", "Movement", "MovementForm", "MovementReverseForm"]
