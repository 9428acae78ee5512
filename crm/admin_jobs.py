"""The job runs (crm.jobs) in the admin: read-only, one row per attempt, failures first to find.

Superusers see them, like the beat schedule itself; no staff role holds crm.view_jobrun."""

from django.contrib import admin
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from crm.admin_utils import ReadOnlyAdminMixin
from crm.models import JobRun

STATUS_COLOURS = {
    JobRun.Status.RUNNING: "#417690",
    JobRun.Status.SUCCEEDED: "#2e7d32",
    JobRun.Status.RETRYING: "#b26a00",
    JobRun.Status.FAILED: "#ba2121",
}


@admin.register(JobRun)
class JobRunAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("job", "run_date", "status_badge", "attempt", "started_at", "duration_display", "error_short")
    list_filter = ("status", "job", "source")
    search_fields = ("job", "task_id")
    date_hierarchy = "started_at"
    list_per_page = 100
    fields = ("job", "run_date", "source", "task_id", "attempt", "status", "started_at", "finished_at",
              "duration_display", "error", "summary")
    readonly_fields = fields

    @admin.display(description=_("status"), ordering="status")
    def status_badge(self, run):
        return format_html('<strong style="color: {}">{}</strong>', STATUS_COLOURS[run.status], run.get_status_display())

    @admin.display(description=_("duration"))
    def duration_display(self, run):
        duration = run.duration
        if duration is None:
            return "-"
        seconds = duration.total_seconds()
        if seconds < 120:
            return gettext("%(seconds).1f s") % {"seconds": seconds}
        return gettext("%(minutes).1f min") % {"minutes": seconds / 60}

    @admin.display(description=_("error"))
    def error_short(self, run):
        return run.error if len(run.error) <= 120 else run.error[:119] + "\u2026"
