"""analytics takes over its models with their rows: CustomerScore and PredictionFit from crm,
SegmentMetricSnapshot, AnalyticsRun and the RetentionDashboard proxy from campaigns.

The models enter analytics' state on their old tables (crm and campaigns drop them from their
own state only, in crm 0010 and campaigns 0005), then the tables are renamed to analytics_*.
Indexes and constraints keep their names. The content types (and so the permissions and the
admin log) follow the models. Written by hand: no live module is imported.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

MOVED = {"crm": ("customerscore", "predictionfit"),
         "campaigns": ("segmentmetricsnapshot", "analyticsrun", "retentiondashboard")}


def move_content_types(apps, schema_editor):
    """The old content types become analytics' (their permissions and admin log rows with them);
    where analytics already has one (a partial earlier run), the old one is left alone."""
    ContentType = apps.get_model("contenttypes", "ContentType")
    db = schema_editor.connection.alias
    for app_label, names in MOVED.items():
        for name in names:
            if not ContentType.objects.using(db).filter(app_label="analytics", model=name).exists():
                ContentType.objects.using(db).filter(app_label=app_label, model=name).update(app_label="analytics")


def restore_content_types(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    db = schema_editor.connection.alias
    for app_label, names in MOVED.items():
        for name in names:
            if not ContentType.objects.using(db).filter(app_label=app_label, model=name).exists():
                ContentType.objects.using(db).filter(app_label="analytics", model=name).update(app_label=app_label)


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("crm", "0008_jobrun"),
        ("campaigns", "0003_analytics"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='PredictionFit',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('calibration_end', models.DateTimeField(verbose_name='calibration end')),
                        ('unit', models.CharField(choices=[('days', 'Days'), ('weeks', 'Weeks')], default='days', max_length=5, verbose_name='time unit')),
                        ('customers', models.PositiveIntegerField(verbose_name='customers')),
                        ('bgnbd', models.JSONField(default=dict, verbose_name='BG/NBD parameters')),
                        ('gamma_gamma', models.JSONField(blank=True, default=dict, verbose_name='Gamma-Gamma parameters')),
                        ('seconds', models.FloatField(default=0, verbose_name='seconds')),
                        ('fitted_at', models.DateTimeField(auto_now_add=True, verbose_name='fitted at')),
                    ],
                    options={
                        'verbose_name': 'prediction fit',
                        'verbose_name_plural': 'prediction fits',
                        'db_table': 'crm_predictionfit',
                        'ordering': ['-fitted_at', '-id'],
                        'get_latest_by': 'fitted_at',
                    },
                ),
                migrations.CreateModel(
                    name='AnalyticsRun',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('status', models.CharField(choices=[('queued', 'Queued'), ('running', 'Running'), ('done', 'Done'), ('failed', 'Failed')], default='queued', max_length=10, verbose_name='status')),
                        ('force', models.BooleanField(default=False, verbose_name='recompute closed periods')),
                        ('total', models.PositiveIntegerField(default=0, verbose_name='snapshots to compute')),
                        ('done', models.PositiveIntegerField(default=0, verbose_name='snapshots computed')),
                        ('error', models.TextField(blank=True, verbose_name='error')),
                        ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='requested at')),
                        ('started_at', models.DateTimeField(blank=True, null=True, verbose_name='started at')),
                        ('finished_at', models.DateTimeField(blank=True, null=True, verbose_name='finished at')),
                        ('requested_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'verbose_name': 'analytics run',
                        'verbose_name_plural': 'analytics runs',
                        'db_table': 'campaigns_analyticsrun',
                        'ordering': ['-created_at', '-id'],
                    },
                ),
                migrations.CreateModel(
                    name='CustomerScore',
                    fields=[
                        ('customer', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, primary_key=True, related_name='score', serialize=False, to='crm.customer', verbose_name='customer')),
                        ('rfm_r', models.PositiveSmallIntegerField(blank=True, null=True, verbose_name='recency score')),
                        ('rfm_f', models.PositiveSmallIntegerField(blank=True, null=True, verbose_name='frequency score')),
                        ('rfm_m', models.PositiveSmallIntegerField(blank=True, null=True, verbose_name='monetary score')),
                        ('rfm_segment', models.CharField(blank=True, choices=[('champions', 'Champions'), ('loyal', 'Loyal'), ('potential_loyalist', 'Potential loyalist'), ('new', 'New'), ('promising', 'Promising'), ('need_attention', 'Need attention'), ('about_to_sleep', 'About to sleep'), ('at_risk', 'At risk'), ('cannot_lose_them', 'Cannot lose them'), ('hibernating', 'Hibernating'), ('lost', 'Lost')], max_length=20, null=True, verbose_name='RFM segment')),
                        ('rfm_computed_at', models.DateTimeField(blank=True, null=True, verbose_name='RFM computed at')),
                        ('p_alive', models.FloatField(blank=True, null=True, verbose_name='P(alive)')),
                        ('expected_purchases_90d', models.FloatField(blank=True, null=True, verbose_name='expected purchases in 90 days')),
                        ('expected_average_value', models.DecimalField(blank=True, decimal_places=2, max_digits=14, null=True, verbose_name='expected order value')),
                        ('predicted_clv', models.DecimalField(blank=True, decimal_places=2, max_digits=14, null=True, verbose_name='predicted CLV')),
                        ('predicted_at', models.DateTimeField(blank=True, null=True, verbose_name='predicted at')),
                    ],
                    options={
                        'verbose_name': 'customer score',
                        'verbose_name_plural': 'customer scores',
                        'db_table': 'crm_customerscore',
                        'indexes': [models.Index(fields=['rfm_segment'], name='crm_score_rfm_segment'), models.Index(fields=['p_alive'], name='crm_score_p_alive')],
                        'constraints': [models.CheckConstraint(condition=models.Q(models.Q(('p_alive__gte', 0), ('p_alive__lte', 1)), ('p_alive__isnull', True), _connector='OR'), name='crm_customerscore_p_alive_0_1')],
                    },
                ),
                migrations.CreateModel(
                    name='SegmentMetricSnapshot',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('period', models.CharField(choices=[('month', 'Month'), ('quarter', 'Quarter'), ('year', 'Year'), ('custom', 'Custom')], max_length=10, verbose_name='period')),
                        ('start', models.DateField(verbose_name='start')),
                        ('end', models.DateField(verbose_name='end')),
                        ('window_days', models.PositiveIntegerField(verbose_name='activity window (days)')),
                        ('size', models.PositiveIntegerField(default=0, verbose_name='customers')),
                        ('customers_at_start', models.PositiveIntegerField(default=0)),
                        ('retained', models.PositiveIntegerField(default=0)),
                        ('churned', models.PositiveIntegerField(default=0)),
                        ('new_customers', models.PositiveIntegerField(default=0)),
                        ('customers_at_end', models.PositiveIntegerField(default=0)),
                        ('retention_rate', models.FloatField(blank=True, null=True)),
                        ('churn_rate', models.FloatField(blank=True, null=True)),
                        ('crr_classic', models.FloatField(blank=True, null=True)),
                        ('extra', models.JSONField(blank=True, default=dict)),
                        ('computed_at', models.DateTimeField(auto_now=True, verbose_name='computed at')),
                        ('segment', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='snapshots', to='campaigns.segment')),
                    ],
                    options={
                        'verbose_name': 'segment metric snapshot',
                        'verbose_name_plural': 'segment metric snapshots',
                        'db_table': 'campaigns_segmentmetricsnapshot',
                        'ordering': ['-start'],
                    },
                ),
                migrations.CreateModel(
                    name='RetentionDashboard',
                    fields=[
                    ],
                    options={
                        'verbose_name': 'retention dashboard',
                        'verbose_name_plural': 'retention dashboard',
                        'proxy': True,
                        'indexes': [],
                        'constraints': [],
                    },
                    bases=('analytics.segmentmetricsnapshot',),
                ),
                migrations.AddIndex(
                    model_name='segmentmetricsnapshot',
                    index=models.Index(fields=['period', 'window_days', 'start'], name='campaigns_snapshot_lookup'),
                ),
                migrations.AddConstraint(
                    model_name='segmentmetricsnapshot',
                    constraint=models.UniqueConstraint(condition=models.Q(('segment__isnull', False)), fields=('segment', 'period', 'start', 'end', 'window_days'), name='campaigns_snapshot_once'),
                ),
                migrations.AddConstraint(
                    model_name='segmentmetricsnapshot',
                    constraint=models.UniqueConstraint(condition=models.Q(('segment__isnull', True)), fields=('period', 'start', 'end', 'window_days'), name='campaigns_snapshot_all_once'),
                ),
            ],
        ),
        migrations.AlterModelTable(name="customerscore", table=None),
        migrations.AlterModelTable(name="predictionfit", table=None),
        migrations.AlterModelTable(name="segmentmetricsnapshot", table=None),
        migrations.AlterModelTable(name="analyticsrun", table=None),
        migrations.RunPython(move_content_types, restore_content_types),
    ]
