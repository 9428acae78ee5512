"""Automations get a public id, as campaigns have, for the API (/api/v1/automations/{id}/lift/).

Added empty, filled one uuid4 per existing row, then made unique and required: a column default
would give every existing row the same value."""

import uuid

from django.db import migrations, models


def fill(apps, schema_editor):
    Automation = apps.get_model("campaigns", "Automation")
    for automation in Automation.objects.filter(public_id__isnull=True).only("pk"):
        automation.public_id = uuid.uuid4()
        automation.save(update_fields=["public_id"])


class Migration(migrations.Migration):

    dependencies = [("campaigns", "0015_campaign_survey")]

    operations = [
        migrations.AddField(model_name="automation", name="public_id",
                            field=models.UUIDField(editable=False, null=True, verbose_name="public id")),
        migrations.RunPython(fill, migrations.RunPython.noop),
        migrations.AlterField(model_name="automation", name="public_id",
                              field=models.UUIDField(default=uuid.uuid4, editable=False, unique=True,
                                                     help_text="The automation's id in the API.",
                                                     verbose_name="public id")),
    ]
