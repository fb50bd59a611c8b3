"""The ledger's admin forms. Amounts and dates are parsed by the one rule of the API
(vault.core.numbers, vault.core.serializers' date bounds); the services decide the rest."""

from __future__ import annotations

from django import forms

from vault.core.errors import DomainError
from vault.core.numbers import MONEY, parse_decimal
from vault.ledger.services import Line


class PeriodCloseForm(forms.Form):
    through = forms.DateField(help_text="The last day closed: nothing is posted on or before it afterwards.")


class ReopenRequestForm(forms.Form):
    through = forms.DateField(required=False, help_text="The lock date after the reopening; empty opens every day.")
    reason = forms.CharField(max_length=300, widget=forms.Textarea(attrs={"rows": 3}))


class ManualEntryForm(forms.Form):
    date = forms.DateField()
    memo = forms.CharField(max_length=300)
    lines = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 6, "cols": 60}),
        help_text="One line per row: account code, debit, credit (e.g. <code>5000, 12.50, 0</code>).",
    )

    def clean_lines(self) -> list[Line]:
        parsed = []
        for number, row in enumerate(self.cleaned_data["lines"].splitlines(), start=1):
            if not row.strip():
                continue
            cells = [cell.strip() for cell in row.split(",")]
            if len(cells) != 3:
                raise forms.ValidationError(f"Row {number}: write account, debit, credit.")
            try:
                debit, credit = (
                    parse_decimal(cell or "0", field="lines", digits=MONEY, what="Amounts") for cell in cells[1:]
                )
            except DomainError as exc:
                raise forms.ValidationError(f"Row {number}: {exc.message}") from None
            parsed.append(Line(account=cells[0], debit=debit, credit=credit))
        if len(parsed) < 2:
            raise forms.ValidationError("A journal entry needs at least two lines.")
        return parsed
