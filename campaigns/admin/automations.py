"""Automations in the Django admin: birthday, win-back and the other occasions."""

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from modeltranslation.admin import TranslationAdmin

from campaigns.admin.campaign_forms import HoldoutFieldMixin, template_errors
from campaigns.admin.campaigns import report_charts
from campaigns.admin.lift import lift_context
from campaigns import selectors
from campaigns.models import Automation
from core.admin_utils import LabelledListEditableMixin


class AutomationForm(HoldoutFieldMixin, forms.ModelForm):
    class Meta:
        model = Automation
        fields = "__all__"

    def clean(self):
        cleaned = super().clean()
        template_errors(self)
        return cleaned


@admin.register(Automation)
class AutomationAdmin(LabelledListEditableMixin, TranslationAdmin):
    form = AutomationForm
    list_display = ("name", "kind", "enabled", "channel", "days", "cooldown_days", "offer", "report_link")
    list_filter = ("kind", "enabled", "channel")
    list_editable = ("enabled",)
    list_select_related = ("offer",)
    readonly_fields = ("public_id", "holdout_seed")
    fieldsets = (
        (None, {"fields": ("name", "kind", "enabled", "channel", "days", "cooldown_days", "offer", "public_id")}),
        (_("Holdout"), {"fields": ("holdout_percent", "holdout_seed")}),
        (_("Content"), {"fields": ("subject", "subject_b", "body", "sms_text"),
                        "description": _("Placeholders as in campaigns ({{ card_url }}, {{ return_url }}, {{ survey_url }}, "
                                         "...), plus {{ order_number }} (post-purchase), {{ products }} (replenishment), "
                                         "{{ points }} and {{ expires_on }} (club notices). In post-purchase messages and "
                                         "survey invitations {{ survey_url }} is the invitation's own link.")}),
    )

    @admin.display(description=_("report"))
    def report_link(self, automation):
        return format_html('<a href="{}">{}</a>', reverse("admin:campaigns_automation_report", args=[automation.pk]), _("Report"))

    def get_urls(self):
        return [path("<int:pk>/report/", self.admin_site.admin_view(self.report_view), name="campaigns_automation_report")] \
            + super().get_urls()

    def report_view(self, request, pk: int):
        automation = get_object_or_404(Automation, pk=pk)
        if not self.has_view_permission(request, automation):
            raise PermissionDenied
        report = selectors.automation_report(automation)
        context = {**self.admin_site.each_context(request), "opts": self.model._meta, "original": automation,
                   "title": _("Report: %(name)s") % {"name": automation.name}, "report": report, **report_charts(report),
                   **lift_context(request, automation)}
        return TemplateResponse(request, "admin/campaigns/campaign/report.html", context)
