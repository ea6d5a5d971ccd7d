from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('cases', '0005_post_participants_only'),
    ]

    operations = [
        migrations.AddField(
            model_name='post',
            name='edited_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
    ]
