"""The platform in the admin: the job runs, and each staff member's "My language" page.

Job runs (core.jobs) are read-only, one row per attempt, failures first to find. Superusers see
them, like the beat schedule itself; no staff role holds core.view_jobrun.

"My language" is listed for every staff member; it only ever shows and changes the signed-in
member's own preference (core.middleware applies it).
"""

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.utils import translation
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from core.admin_utils import ReadOnlyAdminMixin
from core.models import JobRun, StaffPreference
from core.services import staff_language_set

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


# My language ---------------------------------------------------------------------------


class MyLanguageForm(forms.Form):
    language = forms.ChoiceField(label=_("Admin language"), required=False,
                                 help_text=_("The admin will use this language for you on every device."))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        choices = [(code, translation.get_language_info(code)["name_local"]) for code, _name in settings.LANGUAGES]
        self.fields["language"].choices = [("", _("The language of my browser")), *choices]


@admin.register(StaffPreference)
class StaffPreferenceAdmin(admin.ModelAdmin):
    """One page, no list: the signed-in staff member's own language."""

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_staff

    def has_view_permission(self, request, obj=None):
        return self.has_module_permission(request) and (obj is None or obj.user_id == request.user.pk)

    def has_change_permission(self, request, obj=None):
        return self.has_view_permission(request, obj)

    def has_add_permission(self, request):
        return False  # the page below creates the row

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        """Only the page below: no per-object pages through which to reach someone else's row."""
        from django.urls import path

        info = self.opts.app_label, self.opts.model_name
        return [path("", self.admin_site.admin_view(self.changelist_view), name="%s_%s_changelist" % info)]

    def changelist_view(self, request, extra_context=None):
        if not self.has_module_permission(request):
            raise PermissionDenied
        current = StaffPreference.objects.filter(user=request.user).values_list("language", flat=True).first() or ""
        form = MyLanguageForm(request.POST or None, initial={"language": current})
        if request.method == "POST" and form.is_valid():
            try:
                staff_language_set(user=request.user, language=form.cleaned_data["language"], request=request)
            except ValidationError as error:
                form.add_error("language", error.messages)
            else:
                chosen = form.cleaned_data["language"] or translation.get_language_from_request(request)
                with translation.override(chosen):
                    self.message_user(request, translation.gettext("Your admin language is saved."), messages.SUCCESS)
                return HttpResponseRedirect(request.path)
        return TemplateResponse(request, "admin/core/staffpreference/my_language.html", {
            **self.admin_site.each_context(request),
            "title": _("My language"),
            "opts": self.opts,
            "form": form,
        }, status=400 if request.method == "POST" else 200)
