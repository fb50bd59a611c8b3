from django.db import migrations

from vault.core.db import forbid_truncate


class Migration(migrations.Migration):
    """The append-only tables refuse TRUNCATE too (PostgreSQL; see vault.core.db)."""

    dependencies = [("ledger", "0006_download_record")]

    operations = [forbid_truncate("ledger_downloadrecord", "ledger_journalentry", "ledger_journalline")]
