"""API tokens get scopes and an expiry (lockstep/accounts/scopes.py, accounts/tokens.py).

Tokens made before this migration keep working as they did, for a while:

* scopes: all three ("read write publish"): they could do everything, and a script that
  publishes must not start failing on the day of an upgrade;
* expires_at: 90 days after the token was made (the new default lifetime), but never sooner
  than 30 days after the migration runs, so that nobody's script stops without a month to
  notice (the tokens page shows the date) and make a new, narrower token.
"""

from datetime import UTC, datetime, timedelta

from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

LIFETIME = timedelta(days=90)
NOTICE = timedelta(days=30)
EVERY_SCOPE = "read write publish"


def expiry_for(created_at: datetime, *, migrated_at: datetime) -> datetime:
    return max(created_at + LIFETIME, migrated_at + NOTICE)


def backfill_expiry(apps: StateApps, _schema_editor: BaseDatabaseSchemaEditor) -> None:
    api_token = apps.get_model("accounts", "ApiToken")
    migrated_at = datetime.now(tz=UTC)
    tokens = list(api_token.objects.only("pk", "created_at"))
    for token in tokens:
        token.expires_at = expiry_for(token.created_at, migrated_at=migrated_at)
    api_token.objects.bulk_update(tokens, ["expires_at"], batch_size=500)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_mail_policy"),
    ]

    operations = [
        migrations.AddField(
            model_name="apitoken",
            name="scopes",
            field=models.CharField(
                default=EVERY_SCOPE,
                help_text="What it may do, as canonical text: 'read', 'read write', …",
                max_length=32,
            ),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="apitoken",
            name="expires_at",
            field=models.DateTimeField(null=True),
        ),
        migrations.RunPython(backfill_expiry, migrations.RunPython.noop, elidable=False),
        migrations.AlterField(
            model_name="apitoken",
            name="expires_at",
            field=models.DateTimeField(),
        ),
        migrations.AddConstraint(
            model_name="apitoken",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("scopes__in", ("read", "read write", "read publish", "read write publish"))
                ),
                name="accounts_apitoken_scopes_valid",
            ),
        ),
        migrations.AddConstraint(
            model_name="apitoken",
            constraint=models.CheckConstraint(
                condition=models.Q(("expires_at__gt", models.F("created_at"))),
                name="accounts_apitoken_expires_after_creation",
            ),
        ),
    ]
