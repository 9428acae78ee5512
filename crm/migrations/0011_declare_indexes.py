"""The indexes 0004_admin_indexes creates in raw SQL, now declared in the models' Meta.indexes.

State only: 0004 still builds them (PostgreSQL only, as core.indexes.PostgresOnlyIndex does), so an
existing database is not touched and a fresh one gets them once. From here on the model state
knows them, so `makemigrations` sees a change to one and a later migration can alter it.
"""

import django.contrib.postgres.indexes
import django.db.models.functions.text
from django.db import migrations, models

import core.indexes


class Migration(migrations.Migration):

    dependencies = [
        ('crm', '0010_analytics_models_moved'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AddIndex(
                    model_name='customer',
                    index=core.indexes.PostgresOnlyIndex(models.OrderBy(models.F('last_order_at'), descending=True, nulls_last=True), models.F('id'), name='crm_customer_last_order_sort'),
                ),
                migrations.AddIndex(
                    model_name='customer',
                    index=core.indexes.PostgresOnlyIndex(django.contrib.postgres.indexes.OpClass(django.db.models.functions.text.Upper('first_name'), name='text_pattern_ops'), include=('first_name', 'last_name', 'id'), name='crm_customer_first_name_cover'),
                ),
                migrations.AddIndex(
                    model_name='customer',
                    index=core.indexes.PostgresOnlyIndex(django.contrib.postgres.indexes.OpClass(django.db.models.functions.text.Upper('last_name'), name='text_pattern_ops'), include=('last_name', 'id'), name='crm_customer_last_name_cover'),
                ),
                migrations.AddIndex(
                    model_name='interaction',
                    index=core.indexes.PostgresOnlyIndex(fields=['occurred_at', 'id'], name='crm_interaction_occurred'),
                ),
                migrations.AddIndex(
                    model_name='order',
                    index=core.indexes.PostgresOnlyIndex(fields=['status', 'placed_at', 'id'], name='crm_order_status_placed'),
                ),
            ],
            database_operations=[],
        ),
    ]
