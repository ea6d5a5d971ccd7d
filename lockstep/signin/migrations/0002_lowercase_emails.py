"""Account addresses in lower case (accounts.UserManager.normalize_email): django-allauth
looks accounts up by the lower-cased address."""

from django.db import migrations
from django.db.models.functions import Lower


def lowercase(apps, schema_editor):
    User = apps.get_model("accounts", "User")
    User.objects.exclude(email=Lower("email")).update(email=Lower("email"))


class Migration(migrations.Migration):
    dependencies = [("signin", "0001_cache_table"), ("accounts", "0003_mail_policy")]

    operations = [migrations.RunPython(lowercase, migrations.RunPython.noop)]
