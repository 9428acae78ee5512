"""An order's customer is looked up through (customer, placed_at): its own index goes (one less to write per order).

On PostgreSQL a DROP INDEX (core.migration_operations), not Django's drop and re-check of the foreign key."""

import django.db.models.deletion
from django.db import migrations, models

from core.migration_operations import OnPostgres, single_column_indexes_drop


def forwards(schema_editor):
    single_column_indexes_drop(schema_editor, "crm_order", "customer_id")


ALTERED = [
    migrations.AlterField(
        model_name='order',
        name='customer',
        field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='orders', to='crm.customer', verbose_name='customer'),
    ),
]


class Migration(migrations.Migration):

    dependencies = [
        ('crm', '0020_product_defaults_in_the_database'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=ALTERED,
                                            database_operations=[OnPostgres(forwards, ALTERED)]),
    ]
