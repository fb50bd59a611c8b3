"""Idempotency-Keys are scoped to the sender's organization (its users share them), to the user
for a user of no organization (staff).

Existing keys take their user's organization, except where two users of one organization already
used the same key: the first (lowest id) takes the organization, the others keep the per-user
scope they were made under (no replay ever matches them again; they are pruned after
VAULT_IDEMPOTENCY_RETENTION_HOURS like any key)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def scope_keys_to_organizations(apps, schema_editor):
    IdempotencyKey = apps.get_model("drawdowns", "IdempotencyKey")
    first: dict[tuple[int, str], int] = {}
    rows = (
        IdempotencyKey.objects.filter(user__organization__isnull=False)
        .order_by("pk")
        .values_list("pk", "user__organization_id", "key")
    )
    for pk, organization_id, key in rows.iterator():
        first.setdefault((organization_id, key), pk)
    by_organization: dict[int, list[int]] = {}
    for (organization_id, _), pk in first.items():
        by_organization.setdefault(organization_id, []).append(pk)
    for organization_id, pks in by_organization.items():
        for start in range(0, len(pks), 500):
            IdempotencyKey.objects.filter(pk__in=pks[start : start + 500]).update(organization_id=organization_id)


def keep_one_key_per_user(apps, schema_editor):
    """Backwards: the per-user constraint returns; a user who sent one key in two organizations
    (having moved) keeps the first."""
    IdempotencyKey = apps.get_model("drawdowns", "IdempotencyKey")
    seen: set[tuple[int, str]] = set()
    duplicates = []
    for pk, user_id, key in IdempotencyKey.objects.order_by("pk").values_list("pk", "user_id", "key").iterator():
        if (user_id, key) in seen:
            duplicates.append(pk)
        seen.add((user_id, key))
    IdempotencyKey.objects.filter(pk__in=duplicates).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("drawdowns", "0002_transition_append_only"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="idempotencykey",
            name="drawdowns_idempotency_unique_key",
        ),
        migrations.AddField(
            model_name="idempotencykey",
            name="organization",
            field=models.ForeignKey(
                blank=True,
                help_text="The sender's organization: the key's scope. Empty: the key is the user's alone.",
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="accounts.organization",
            ),
        ),
        migrations.AlterField(
            model_name="idempotencykey",
            name="user",
            field=models.ForeignKey(
                help_text="Who sent it first.",
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.RunPython(scope_keys_to_organizations, keep_one_key_per_user),
        migrations.AddConstraint(
            model_name="idempotencykey",
            constraint=models.UniqueConstraint(
                condition=models.Q(("organization__isnull", False)),
                fields=("organization", "key"),
                name="drawdowns_idempotency_unique_org_key",
            ),
        ),
        migrations.AddConstraint(
            model_name="idempotencykey",
            constraint=models.UniqueConstraint(
                condition=models.Q(("organization__isnull", True)),
                fields=("user", "key"),
                name="drawdowns_idempotency_unique_user_key",
            ),
        ),
    ]
