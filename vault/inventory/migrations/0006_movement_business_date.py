from django.conf import settings
from django.db import migrations, models
from django.utils import timezone


def business_dates_fill(apps, schema_editor):
    """Existing movements moved on the day they were recorded, in Vault's time zone. The
    append-only trigger (0002) is set aside for this one UPDATE, inside this migration's
    transaction, on PostgreSQL."""
    connection = schema_editor.connection
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ALTER TABLE inventory_movement DISABLE TRIGGER inventory_movement_immutable")
            cursor.execute(
                "UPDATE inventory_movement SET business_date = (created_at AT TIME ZONE %s)::date",
                [settings.TIME_ZONE],
            )
            cursor.execute("ALTER TABLE inventory_movement ENABLE TRIGGER inventory_movement_immutable")
        return
    Movement = apps.get_model("inventory", "Movement")
    by_day: dict = {}
    for pk, created_at in Movement.objects.values_list("pk", "created_at").iterator():
        by_day.setdefault(timezone.localdate(created_at), []).append(pk)
    for day, ids in by_day.items():
        for start in range(0, len(ids), 500):
            Movement.objects.filter(pk__in=ids[start : start + 500]).update(business_date=day)


class Migration(migrations.Migration):
    """Movements carry their business (value) date, separate from when they were recorded."""

    dependencies = [("inventory", "0005_truncate_guard")]

    operations = [
        migrations.AddField(model_name="movement", name="business_date", field=models.DateField(null=True)),
        migrations.RunPython(business_dates_fill, migrations.RunPython.noop),
    ]
