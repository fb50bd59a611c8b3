from django.db import migrations

from vault.core.db import forbid_truncate


class Migration(migrations.Migration):
    """The append-only tables refuse TRUNCATE too (PostgreSQL; see vault.core.db)."""

    dependencies = [("financing", "0002_triggers")]

    operations = [
        forbid_truncate(
            "financing_feereceipt", "financing_interestaccrual", "financing_interestpayment", "financing_repayment"
        )
    ]
