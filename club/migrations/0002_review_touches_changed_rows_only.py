import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    """The nightly tier review writes only the rows whose figures change: no review date on
    every row, and no index on the column it rewrites (so PostgreSQL can update in place)."""

    dependencies = [
        ("club", "0001_initial"),
    ]

    operations = [
        migrations.RemoveField(model_name="membership", name="reviewed_on"),
        migrations.AlterField(
            model_name="membership",
            name="qualified_tier",
            field=models.ForeignKey(
                blank=True, db_index=False, editable=False, null=True, on_delete=django.db.models.deletion.SET_NULL,
                related_name="+", to="club.tier", verbose_name="qualified tier at last review",
            ),
        ),
    ]
