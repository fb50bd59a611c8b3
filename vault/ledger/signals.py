"""Signals of the ledger for the apps that post into it (they depend on the ledger, never the
other way round)."""

from django.dispatch import Signal

# Sent by `period_close` inside its transaction, with the books locked, before the close is
# written: `sender=None, through=<date>`. A receiver that must stop the close (interest not yet
# accrued through the date, say) raises a DomainError; nothing is written then.
period_closing = Signal()
