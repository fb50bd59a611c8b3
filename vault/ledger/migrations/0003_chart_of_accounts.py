from django.db import migrations

from vault.ledger.chart import SYSTEM_ACCOUNTS


def create_accounts(apps, schema_editor):
    Account = apps.get_model("ledger", "Account")
    for code, name, type_ in SYSTEM_ACCOUNTS:
        Account.objects.get_or_create(code=code, defaults={"name": name, "type": type_})


class Migration(migrations.Migration):
    dependencies = [("ledger", "0002_triggers")]

    operations = [migrations.RunPython(create_accounts, migrations.RunPython.noop)]
