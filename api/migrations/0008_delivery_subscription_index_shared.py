"""A delivery's subscription is looked up through (subscription, event_id) and (subscription, -created_at): its own
index goes (one less to write per webhook delivery).

On PostgreSQL a DROP INDEX (core.migration_operations), not Django's drop and re-check of the foreign key."""

import django.db.models.deletion
from django.db import migrations, models

from core.migration_operations import OnPostgres, single_column_indexes_drop


def forwards(schema_editor):
    single_column_indexes_drop(schema_editor, "api_webhookdelivery", "subscription_id")


ALTERED = [
    migrations.AlterField(
        model_name='webhookdelivery',
        name='subscription',
        field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='deliveries', to='api.webhooksubscription', verbose_name='subscription'),
    ),
]


class Migration(migrations.Migration):

    dependencies = [
        ('api', '0007_enrol_confirmation'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=ALTERED,
                                            database_operations=[OnPostgres(forwards, ALTERED)]),
    ]
