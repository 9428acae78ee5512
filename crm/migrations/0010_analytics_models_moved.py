"""CustomerScore and PredictionFit now belong to analytics (analytics 0001 took their tables
and rows): crm forgets them in its state only."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("crm", "0009_move_platform_models_to_core"),
        ("analytics", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name="PredictionFit"),
                migrations.DeleteModel(name="CustomerScore"),
            ],
        ),
    ]
