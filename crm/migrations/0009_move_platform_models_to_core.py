"""JobRun and StaffPreference now belong to core (core 0001 took over their tables): crm forgets them.

State only: the tables are core's now and must not be dropped."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("crm", "0008_jobrun"),
        ("core", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name="JobRun"),
                migrations.DeleteModel(name="StaffPreference"),
            ],
            database_operations=[],
        ),
    ]
