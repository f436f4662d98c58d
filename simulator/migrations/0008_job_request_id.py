# A column with a default, added in one step: the previous release's workers never read
# it and its web processes insert rows without it, which the database default fills.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("simulator", "0007_deploy_safety"),
    ]

    operations = [
        migrations.AddField(
            model_name="simulationjob",
            name="request_id",
            field=models.CharField(blank=True, db_default="", default="", max_length=128),
        ),
    ]
