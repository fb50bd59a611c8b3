"""API tokens are django-rest-knox's (docs/security.md, "API tokens"):

- the proxy model the admin lists them with (ApiToken: named by its key's first characters);
- DRF's token table, `authtoken_token`, dropped where an older database still has it: it held the
  keys in the clear, and `rest_framework.authtoken` is no longer installed, so its keys were
  refused already. Its migration records go too (were the app installed again, its migration
  would create the table afresh); its stale content types and permissions are left to
  `manage.py remove_stale_contenttypes --include-stale-apps`."""

from django.db import migrations


def drop_drf_tokens(apps, schema_editor):
    """DRF's plain keys leave the database (both vendors: IF EXISTS, one statement each)."""
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS authtoken_token")
        cursor.execute("DELETE FROM django_migrations WHERE app = 'authtoken'")


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("knox", "0009_extend_authtoken_field"),
    ]

    operations = [
        migrations.CreateModel(
            name="ApiToken",
            fields=[],
            options={
                "verbose_name": "API token",
                "ordering": ["-created"],
                "proxy": True,
                "indexes": [],
                "constraints": [],
            },
            bases=("knox.authtoken",),
        ),
        migrations.RunPython(drop_drf_tokens, migrations.RunPython.noop),
    ]
