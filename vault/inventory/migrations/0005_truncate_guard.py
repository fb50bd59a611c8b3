from django.db import migrations

from vault.core.db import forbid_truncate


class Migration(migrations.Migration):
    """The append-only tables refuse TRUNCATE too (PostgreSQL; see vault.core.db)."""

    dependencies = [("inventory", "0004_code_immutable")]

    operations = [forbid_truncate("inventory_movement")]
