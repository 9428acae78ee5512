"""The platform's own rows: job runs (core.jobs) and staff language preferences (core.middleware).

Both were crm models until the platform moved to core; core.migrations.0001 took them over with
their data (the tables were renamed, the constraint and index names kept their crm_ prefix)."""

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class StaffPreference(models.Model):
    """A staff member's own choice of the language the admin speaks to them (core.middleware).

    Empty: the browser's language, as before. Each staff member edits their own on the admin's
    "My language" page (core.admin)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="staff_preference",
                                verbose_name=_("staff member"))
    language = models.CharField(_("admin language"), max_length=10, choices=settings.LANGUAGES, blank=True, default="",
                                help_text=_("Empty: the language of your browser."))
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("my language")
        verbose_name_plural = _("my language")

    def __str__(self):
        return self.get_language_display() or "-"


class JobRun(models.Model):
    """One attempt at running a periodic job (core.jobs), by Celery or by hand: the visible record
    of what ran, how it ended and, for a failure, why.

    One row per attempt: a Celery task that is retried adds a row per try with the same task id
    and a growing attempt number, so the time between attempts (the backoff) can be read off
    the rows. A redelivered attempt (its worker died) reuses its row."""

    class Status(models.TextChoices):
        RUNNING = "running", _("Running")
        SUCCEEDED = "succeeded", _("Succeeded")
        RETRYING = "retrying", _("Failed, will retry")
        FAILED = "failed", _("Failed")

    class Source(models.TextChoices):
        TASK = "task", _("Celery task")
        MANUAL = "manual", _("By hand (run_job)")

    job = models.CharField(_("job"), max_length=100)
    run_date = models.DateField(_("run date"))
    source = models.CharField(_("started by"), max_length=10, choices=Source.choices, default=Source.TASK)
    task_id = models.CharField(_("Celery task id"), max_length=255, blank=True, default="")
    attempt = models.PositiveSmallIntegerField(_("attempt"), default=1)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.RUNNING)
    error = models.TextField(_("error"), blank=True, default="")
    summary = models.JSONField(_("summary"), null=True, blank=True, encoder=DjangoJSONEncoder)
    started_at = models.DateTimeField(_("started"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        verbose_name = _("job run")
        verbose_name_plural = _("job runs")
        constraints = [
            models.UniqueConstraint(fields=["task_id", "attempt"], condition=~Q(task_id=""),
                                    name="crm_jobrun_one_row_per_attempt"),
        ]
        indexes = [
            models.Index(fields=["-started_at"], name="crm_jobrun_started"),
            models.Index(fields=["status", "-started_at"], name="crm_jobrun_status_started"),
        ]

    def __str__(self):
        return f"{self.job} {self.run_date} #{self.attempt}"

    @property
    def duration(self):
        return self.finished_at - self.started_at if self.finished_at else None
