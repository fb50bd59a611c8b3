from django.db import migrations

from vault.core.db import forbid_truncate


class Migration(migrations.Migration):
    """The append-only tables refuse TRUNCATE too (PostgreSQL; see vault.core.db)."""

    dependencies = [("accounts", "0004_second_factor_event")]

    operations = [forbid_truncate("accounts_secondfactorevent")]
