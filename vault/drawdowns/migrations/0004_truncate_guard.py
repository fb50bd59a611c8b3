from django.db import migrations

from vault.core.db import forbid_truncate


class Migration(migrations.Migration):
    """The append-only tables refuse TRUNCATE too (PostgreSQL; see vault.core.db)."""

    dependencies = [("drawdowns", "0003_idempotency_key_per_organization")]

    operations = [forbid_truncate("drawdowns_drawdowntransition")]
