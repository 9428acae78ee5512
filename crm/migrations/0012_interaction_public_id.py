"""A public id for interactions, which the partner API names (ids in the API are public ids).

Added nullable, filled with a distinct uuid4 per row (a column default would give every existing
row the same value), then made unique and required."""

import uuid

from django.db import migrations, models


def fill(apps, schema_editor):
    Interaction = apps.get_model("crm", "Interaction")
    batch = []
    for row in Interaction.objects.filter(public_id__isnull=True).only("pk").iterator(chunk_size=2000):
        row.public_id = uuid.uuid4()
        batch.append(row)
        if len(batch) >= 2000:
            Interaction.objects.bulk_update(batch, ["public_id"])
            batch = []
    Interaction.objects.bulk_update(batch, ["public_id"])


class Migration(migrations.Migration):

    dependencies = [
        ("crm", "0011_declare_indexes"),
    ]

    operations = [
        migrations.AddField(model_name="interaction", name="public_id", field=models.UUIDField(null=True, editable=False)),
        migrations.RunPython(fill, migrations.RunPython.noop),
        migrations.AlterField(model_name="interaction", name="public_id",
                              field=models.UUIDField(default=uuid.uuid4, editable=False, unique=True, verbose_name="public id")),
    ]
