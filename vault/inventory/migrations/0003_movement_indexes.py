"""Movement indexes for the filtered lists at scale: (material, site, -id) serves a page of a
material-and-site filter and its capped count; the single-column indexes on lot, material and
site go, as the composite indexes that start with each of them serve the same lookups; a partial
index on `reference` serves the admin search."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("inventory", "0002_movement_append_only"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name="movement",
            name="lot",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="movements",
                to="inventory.lot",
            ),
        ),
        migrations.AlterField(
            model_name="movement",
            name="material",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="inventory.material",
            ),
        ),
        migrations.AlterField(
            model_name="movement",
            name="site",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="inventory.site",
            ),
        ),
        migrations.AddIndex(
            model_name="movement",
            index=models.Index(fields=["material", "site", "-id"], name="inventory_m_materia_572832_idx"),
        ),
        migrations.AddIndex(
            model_name="movement",
            index=models.Index(
                condition=models.Q(("reference", ""), _negated=True),
                fields=["reference"],
                name="inventory_movement_reference",
            ),
        ),
    ]
