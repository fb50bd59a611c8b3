from django import forms
from django.core.exceptions import ValidationError
from django.db import transaction

from vault.core.errors import DomainError
from vault.inventory import services
from vault.inventory.models import QUANTITY, Lot, Movement, Site
from vault.inventory.selectors import site_held
from vault.inventory.services import CREATABLE_KINDS


class _DryRun(Exception):
    """Raised to roll back a service call made only to validate a form."""


def _validate_with_service(form, call) -> None:
    """Run `call` (a service) in a savepoint that is always rolled back, and show what it
    refuses as form errors: the admin then validates with the same rules as the API, and the
    real call in `save_model` rarely fails (only if the stock changed in between)."""
    try:
        with transaction.atomic():
            call()
            raise _DryRun
    except _DryRun:
        pass
    except DomainError as exc:
        form.add_error(exc.field if exc.field in form.fields else None, exc.message)
    except ValidationError as exc:
        form.add_error(None, exc)


class MovementForm(forms.Form):
    """Record a movement in the admin; saved by the same service as the API."""

    kind = forms.ChoiceField(choices=[(k.value, k.label) for k in CREATABLE_KINDS])
    lot = forms.ModelChoiceField(queryset=Lot.objects.select_related("material", "site").order_by("lot_number"))
    quantity = forms.DecimalField(help_text="kg; an adjustment may be negative.", **QUANTITY)
    to_site = forms.ModelChoiceField(queryset=Site.objects.all(), required=False, help_text="Transfers only.")
    reason = forms.CharField(max_length=300, required=False, help_text="Required for adjustments and write-offs.")
    reference = forms.CharField(max_length=100, required=False)


class MovementReverseForm(forms.Form):
    reason = forms.CharField(max_length=300, widget=forms.TextInput(attrs={"size": 60}))


class LotAddForm(forms.ModelForm):
    """Add a lot, with its initial receipt, through `lot_create`. The admin sets `user`."""

    user = None
    initial_quantity = forms.DecimalField(
        required=False, min_value=0.001, help_text="kg received with the lot (a receipt movement).", **QUANTITY
    )

    def service_kwargs(self) -> dict:
        data = {k: v for k, v in self.cleaned_data.items() if k in self._meta.fields}
        return {"by": self.user, "initial_quantity": self.cleaned_data.get("initial_quantity"), **data}

    def _post_clean(self):
        super()._post_clean()
        if not self.errors:
            _validate_with_service(self, lambda: services.lot_create(**self.service_kwargs()))

    class Meta:
        model = Lot
        fields = [
            "lot_number",
            "material",
            "site",
            "status",
            "mining_country",
            "processing_country",
            "supplier",
            "received_date",
            "unit_cost",
            "assay_certificate",
        ]


class LotChangeForm(forms.ModelForm):
    """Change a lot: a new status goes through `lot_set_status`. The admin sets `user`."""

    user = None

    def _post_clean(self):
        super()._post_clean()
        if not self.errors and "status" in self.changed_data:
            lot, status = self.instance, self.cleaned_data["status"]
            _validate_with_service(self, lambda: services.lot_set_status(lot=lot, status=status, by=self.user))


class SiteForm(forms.ModelForm):
    def clean_capacity_kg(self):
        capacity = self.cleaned_data.get("capacity_kg")
        if capacity is not None and self.instance.pk:
            held = site_held(site=self.instance)
            if capacity < held:
                raise ValidationError(f"The site holds {held} kg; capacity cannot be less.")
        return capacity


__all__ = ["LotAddForm", "LotChangeForm", "Movement", "MovementForm", "MovementReverseForm", "SiteForm"]
