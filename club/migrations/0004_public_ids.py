"""Public ids for what the API and webhooks name: offers and points transactions.

Added nullable, filled with a distinct uuid4 per row (a column default would give every existing
row the same value), then made unique and required."""

import uuid

from django.db import migrations, models


def fill(app_label: str, model_names: list[str]):
    def forwards(apps, schema_editor):
        for name in model_names:
            model = apps.get_model(app_label, name)
            batch = []
            for row in model.objects.filter(public_id__isnull=True).only("pk").iterator(chunk_size=2000):
                row.public_id = uuid.uuid4()
                batch.append(row)
                if len(batch) >= 2000:
                    model.objects.bulk_update(batch, ["public_id"])
                    batch = []
            model.objects.bulk_update(batch, ["public_id"])

    return forwards


MODELS = ["offer", "pointstransaction"]


class Migration(migrations.Migration):

    dependencies = [
        ("club", "0003_history"),
    ]

    operations = [
        *[migrations.AddField(model_name=name, name="public_id", field=models.UUIDField(null=True, editable=False))
          for name in MODELS],
        migrations.RunPython(fill("club", MODELS), migrations.RunPython.noop),
        *[migrations.AlterField(model_name=name, name="public_id",
                                field=models.UUIDField(default=uuid.uuid4, editable=False, unique=True, verbose_name="public id"))
          for name in MODELS],
    ]
