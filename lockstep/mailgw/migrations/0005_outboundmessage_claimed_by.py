from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("mailgw", "0004_per_recipient_and_project"),
    ]

    operations = [
        migrations.AddField(
            model_name="outboundmessage",
            name="claimed_by",
            field=models.CharField(blank=True, default="", max_length=64),
        ),
    ]
