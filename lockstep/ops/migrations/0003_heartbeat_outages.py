from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("ops", "0002_ratelimitbucket"),
    ]

    operations = [
        migrations.AddField(
            model_name="workerheartbeat",
            name="waiting_since",
            field=models.DateTimeField(null=True),
        ),
        migrations.AddField(
            model_name="workerheartbeat",
            name="last_outage_started_at",
            field=models.DateTimeField(null=True),
        ),
        migrations.AddField(
            model_name="workerheartbeat",
            name="last_outage_ended_at",
            field=models.DateTimeField(null=True),
        ),
    ]
