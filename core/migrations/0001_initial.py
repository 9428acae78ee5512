"""JobRun and StaffPreference move from crm to core with their rows.

The models are created in core's state only, on crm's existing tables (crm 0009 then forgets
them), and the tables are renamed to core's names. Their content types follow them, so the
permissions already granted on them (view_jobrun, ...) still apply. Self-contained on purpose:
no live application module is imported."""

import django.core.serializers.json
import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


MOVED_MODELS = ("jobrun", "staffpreference")


def content_types_to_core(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    db = schema_editor.connection.alias
    for model in MOVED_MODELS:
        if not ContentType.objects.using(db).filter(app_label="core", model=model).exists():
            ContentType.objects.using(db).filter(app_label="crm", model=model).update(app_label="core")


def content_types_to_crm(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    db = schema_editor.connection.alias
    for model in MOVED_MODELS:
        if not ContentType.objects.using(db).filter(app_label="crm", model=model).exists():
            ContentType.objects.using(db).filter(app_label="core", model=model).update(app_label="crm")


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ("crm", "0008_jobrun"),
        ("contenttypes", "0002_remove_content_type_name"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="JobRun",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("job", models.CharField(max_length=100, verbose_name="job")),
                        ("run_date", models.DateField(verbose_name="run date")),
                        ("source", models.CharField(choices=[("task", "Celery task"), ("manual", "By hand (run_job)")], default="task", max_length=10, verbose_name="started by")),
                        ("task_id", models.CharField(blank=True, default="", max_length=255, verbose_name="Celery task id")),
                        ("attempt", models.PositiveSmallIntegerField(default=1, verbose_name="attempt")),
                        ("status", models.CharField(choices=[("running", "Running"), ("succeeded", "Succeeded"), ("retrying", "Failed, will retry"), ("failed", "Failed")], default="running", max_length=10, verbose_name="status")),
                        ("error", models.TextField(blank=True, default="", verbose_name="error")),
                        ("summary", models.JSONField(blank=True, encoder=django.core.serializers.json.DjangoJSONEncoder, null=True, verbose_name="summary")),
                        ("started_at", models.DateTimeField(default=django.utils.timezone.now, verbose_name="started")),
                        ("finished_at", models.DateTimeField(blank=True, null=True, verbose_name="finished")),
                    ],
                    options={
                        "db_table": "crm_jobrun",
                        "verbose_name": "job run",
                        "verbose_name_plural": "job runs",
                        "ordering": ["-started_at", "-id"],
                        "indexes": [models.Index(fields=["-started_at"], name="crm_jobrun_started"), models.Index(fields=["status", "-started_at"], name="crm_jobrun_status_started")],
                        "constraints": [models.UniqueConstraint(condition=models.Q(("task_id", ""), _negated=True), fields=("task_id", "attempt"), name="crm_jobrun_one_row_per_attempt")],
                    },
                ),
                migrations.CreateModel(
                    name="StaffPreference",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("language", models.CharField(blank=True, choices=[("en", "English"), ("fa", "Persian"), ("ar", "Arabic")], default="", help_text="Empty: the language of your browser.", max_length=10, verbose_name="admin language")),
                        ("updated_at", models.DateTimeField(auto_now=True, verbose_name="updated")),
                        ("user", models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name="staff_preference", to=settings.AUTH_USER_MODEL, verbose_name="staff member")),
                    ],
                    options={
                        "db_table": "crm_staffpreference",
                        "verbose_name": "my language",
                        "verbose_name_plural": "my language",
                    },
                ),
            ],
            database_operations=[],
        ),
        # Now core's own table names; the rows, constraints and indexes go with the tables.
        migrations.AlterModelTable(name="jobrun", table=None),
        migrations.AlterModelTable(name="staffpreference", table=None),
        migrations.RunPython(content_types_to_core, content_types_to_crm),
    ]
