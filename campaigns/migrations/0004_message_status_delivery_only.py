"""A message's status follows delivery only; engagement is read from its timestamps.

Rows whose status was an engagement (opened, clicked, converted, unsubscribed) had been
delivered, so they become "sent"; their timestamps already hold the engagement. Going back,
a sent row takes the furthest engagement its timestamps show, in the order the old code
moved the status (unsubscribing overrode everything; a conversion beat a click, a click an open).

Self-contained on purpose: a migration must not import live application code.
"""

from django.db import migrations, models

ENGAGEMENT_STATUSES = ("opened", "clicked", "converted", "unsubscribed")
# Furthest first: the reverse gives each sent row the first of these its timestamps show.
REVERSE_ORDER = (("unsubscribed", "unsubscribed_at"), ("converted", "converted_at"), ("clicked", "clicked_at"),
                 ("opened", "opened_at"))


def to_delivery_only(apps, schema_editor):
    Message = apps.get_model("campaigns", "Message")
    Message.objects.filter(status__in=ENGAGEMENT_STATUSES).update(status="sent")


def to_mixed_status(apps, schema_editor):
    Message = apps.get_model("campaigns", "Message")
    remaining = Message.objects.filter(status="sent")
    for status, column in REVERSE_ORDER:
        remaining.filter(**{f"{column}__isnull": False}).update(status=status)
        remaining = remaining.filter(**{f"{column}__isnull": True})


class Migration(migrations.Migration):

    dependencies = [
        ("campaigns", "0003_analytics"),
    ]

    operations = [
        migrations.RunPython(to_delivery_only, to_mixed_status),
        migrations.AlterField(
            model_name="message",
            name="status",
            field=models.CharField(choices=[("held", "Waiting for the A/B winner"), ("queued", "Queued"), ("sending", "Sending"),
                                            ("sent", "Sent"), ("failed", "Failed"), ("bounced", "Bounced"),
                                            ("skipped", "Skipped"), ("cancelled", "Cancelled")],
                                   default="queued", max_length=12, verbose_name="status"),
        ),
    ]
