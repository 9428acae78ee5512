"""Fewer indexes to write for every ledger row and tier change (an order writes one of each):

- foreign keys that lead a composite index (member, rule; a tier change's member; a member's tier) lose their own;
- foreign keys nearly always empty (original, created_by, changed_by) are indexed where set only;
- the idempotency keys are unique by a named constraint, without the LIKE index `unique=True` adds.

On PostgreSQL: DROP INDEX and RENAME CONSTRAINT (core.migration_operations), not Django's drop and re-check
of each foreign key and rebuild of each unique index."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from core.migration_operations import OnPostgres, single_column_indexes_drop, unique_constraint_rename


def forwards(schema_editor):
    for table, column in (("club_membership", "tier_id"), ("club_pointstransaction", "member_id"),
                          ("club_pointstransaction", "rule_id"), ("club_pointstransaction", "original_id"),
                          ("club_pointstransaction", "created_by_id"), ("club_pointstransaction", "idempotency_key"),
                          ("club_pendingpoints", "idempotency_key"), ("club_tierchange", "member_id"),
                          ("club_tierchange", "changed_by_id")):
        single_column_indexes_drop(schema_editor, table, column)
    unique_constraint_rename(schema_editor, "club_pointstransaction", "idempotency_key", "club_points_idempotency_key")
    unique_constraint_rename(schema_editor, "club_pendingpoints", "idempotency_key", "club_pending_idempotency_key")


ALTERED = [
    migrations.AlterField(
        model_name='membership',
        name='tier',
        field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='members', to='club.tier', verbose_name='tier'),
    ),
    migrations.AlterField(
        model_name='pendingpoints',
        name='idempotency_key',
        field=models.CharField(max_length=200, verbose_name='idempotency key'),
    ),
    migrations.AlterField(
        model_name='pointstransaction',
        name='created_by',
        field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='staff'),
    ),
    migrations.AlterField(
        model_name='pointstransaction',
        name='idempotency_key',
        field=models.CharField(max_length=200, verbose_name='idempotency key'),
    ),
    migrations.AlterField(
        model_name='pointstransaction',
        name='member',
        field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='transactions', to='club.membership', verbose_name='member'),
    ),
    migrations.AlterField(
        model_name='pointstransaction',
        name='original',
        field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='followups', to='club.pointstransaction', verbose_name='original entry'),
    ),
    migrations.AlterField(
        model_name='pointstransaction',
        name='rule',
        field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='transactions', to='club.earningrule', verbose_name='earning rule'),
    ),
    migrations.AlterField(
        model_name='tierchange',
        name='changed_by',
        field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='changed by'),
    ),
    migrations.AlterField(
        model_name='tierchange',
        name='member',
        field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='tier_changes', to='club.membership', verbose_name='member'),
    ),
    migrations.AddConstraint(
        model_name='pendingpoints',
        constraint=models.UniqueConstraint(fields=('idempotency_key',), name='club_pending_idempotency_key'),
    ),
    migrations.AddConstraint(
        model_name='pointstransaction',
        constraint=models.UniqueConstraint(fields=('idempotency_key',), name='club_points_idempotency_key'),
    ),
]


class Migration(migrations.Migration):

    dependencies = [
        ('club', '0010_points_liability_snapshot'),
        ('crm', '0021_order_customer_index_shared'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=ALTERED,
                                            database_operations=[OnPostgres(forwards, ALTERED)]),
        migrations.AddIndex(
            model_name='pointstransaction',
            index=models.Index(condition=models.Q(('original__isnull', False)), fields=['original'], name='club_points_original'),
        ),
        migrations.AddIndex(
            model_name='pointstransaction',
            index=models.Index(condition=models.Q(('created_by__isnull', False)), fields=['created_by'], name='club_points_created_by'),
        ),
        migrations.AddIndex(
            model_name='tierchange',
            index=models.Index(condition=models.Q(('changed_by__isnull', False)), fields=['changed_by'], name='club_tierchange_changed_by'),
        ),
    ]
