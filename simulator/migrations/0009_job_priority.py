"""SimulationJob.priority, and the group whose members' jobs run first (simulator/services/
broker.py, queue_of), made here so it is there to pick in the admin."""

from typing import Any

from django.db import migrations, models

# The name in settings.PRIORITY_GROUP when this migration was written: a migration must
# not follow a setting that may change after it ran.
GROUP = "priority"


def create_group(apps: Any, schema_editor: Any) -> None:
    apps.get_model("auth", "Group").objects.get_or_create(name=GROUP)


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("simulator", "0008_job_request_id"),
    ]

    operations = [
        migrations.AddField(
            model_name="simulationjob",
            name="priority",
            field=models.BooleanField(db_default=False, default=False),
        ),
        # Reversed, the group stays: it may hold users an operator put there.
        migrations.RunPython(create_group, migrations.RunPython.noop),
    ]
