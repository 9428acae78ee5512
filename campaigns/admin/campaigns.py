"""Campaigns in the Django admin.

Marketers edit a campaign while it is a draft; every state change (schedule, send now,
cancel, resend the failed ones, resume) is a POST to a small view that calls one service.
Once a campaign is scheduled its content is read-only: what was sent is what the page shows.
"""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseNotAllowed, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html_join
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from modeltranslation.admin import TranslationAdmin

from campaigns import recommendations, selectors, services
from campaigns.admin.campaign_forms import (
    CONTENT_PREFIXES, CampaignForm, CampaignVariantInline, ScheduleForm, TestSendForm,
)
from campaigns.admin.lift import lift_context
from campaigns.models import Campaign, Channel
from campaigns.selectors.audience import (
    campaign_audience_estimate, campaign_recipients_without_recommendations, campaign_sample_recipient,
)
from core.charts import Series, bar_chart
from crm.selectors import recommendations_for


@admin.register(Campaign)
class CampaignAdmin(TranslationAdmin):
    form = CampaignForm
    list_display = ("name", "channel", "status", "scheduled_at", "audience_display", "progress_display", "skipped_display",
                    "created_at")
    list_filter = ("status", "channel")
    search_fields = ("name",)
    date_hierarchy = "created_at"
    filter_horizontal = ("segments", "excluded_segments")
    inlines = [CampaignVariantInline]
    change_form_template = "admin/campaigns/campaign/change_form.html"
    status_fields = ("public_id", "status", "started_at", "finished_at", "cancelled_at", "winner_variant", "winner_decided_at",
                     "audience_size", "recipients", "held_out", "holdout_seed", "skipped_no_consent", "skipped_suppressed", "skipped_frequency_cap",
                     "sent_count", "failed_count", "history_display")
    fieldsets = (
        (None, {"fields": ("name", "channel", "segments", "excluded_segments")}),
        (_("Content"), {"fields": ("subject", "body", "sms_text", "survey"),
                        "description": format_lazy("{} {}", _("Personalise with {{ first_name }}, {{ tier }}, {{ points_balance }}, "
                                         "{{ points_expiring }}, {{ coupon_code }}, {{ offer }}, {{ card_url }}, {{ return_url }}, "
                                         "{{ survey_url }} (the survey chosen below, else the one the customer has not "
                                         "answered yet; empty when there is none, so wrap it in {% if survey_url %}). "
                                         "Each customer gets their "
                                         "language; empty languages fall back to English."), _(
                            "{{ recommendations }} lists the products picked for the customer (in an SMS or a subject, "
                            "their names); it is empty for a customer without picks, so wrap it in "
                            "{% if recommendations %}."))}),
        (_("Offer"), {"fields": ("offer",)}),
        (_("A/B test"), {"fields": ("test_percent", "winner_after_hours", "winner_metric"),
                         "description": _("Add up to four variants below; their shares must add up to 100%.")}),
        (_("Holdout"), {"fields": ("holdout_percent",),
                         "description": _("The holdout is drawn when sending starts and kept with the audience; "
                                          "the report compares its orders with the recipients'.")}),
        (_("Schedule"), {"fields": ("scheduled_at",)}),
        (_("Status"), {"fields": status_fields}),
    )

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("segments", "excluded_segments")

    @admin.display(description=_("audience"))
    def audience_display(self, campaign):
        """Before sending, an estimate from the segments' last counted sizes (target sizes minus
        exclusions; overlaps make it an upper bound); after, the recipients frozen at the start."""
        if campaign.status not in (Campaign.Status.DRAFT, Campaign.Status.SCHEDULED):
            return campaign.recipients
        targets = sum(segment.size or 0 for segment in campaign.segments.all())
        excluded = sum(segment.size or 0 for segment in campaign.excluded_segments.all())
        return f"≈ {max(0, targets - excluded)}"

    @admin.display(description=_("progress"))
    def progress_display(self, campaign):
        if campaign.status in (Campaign.Status.DRAFT, Campaign.Status.SCHEDULED):
            return "–"
        return f"{campaign.sent_count} / {campaign.recipients} ({campaign.progress_percent}%)"

    @admin.display(description=_("skipped"))
    def skipped_display(self, campaign):
        return campaign.skipped

    @admin.display(description=_("history"))
    def history_display(self, campaign):
        """The audit trail (CampaignEvent), newest first: what happened, who did it, from where."""
        if campaign.pk is None:
            return "–"
        events = campaign.events.select_related("by")[:50]
        return format_html_join(
            "", "<div>{} · {} · {} · {}</div>",
            ((date_format(timezone.localtime(event.at), "SHORT_DATETIME_FORMAT"), event.get_kind_display(),
              event.by.get_username() if event.by else "—", event.source) for event in events),
        ) or "–"

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.status != Campaign.Status.DRAFT:
            editable = [name for fieldset in self.fieldsets for name in fieldset[1]["fields"]]
            return tuple(dict.fromkeys(editable + [f.name for f in Campaign._meta.fields if f.name.startswith(CONTENT_PREFIXES)]))
        return self.status_fields

    def has_delete_permission(self, request, obj=None):
        if obj is not None and (obj.status not in (Campaign.Status.DRAFT, Campaign.Status.CANCELLED) or obj.messages.exists()):
            return False
        return super().has_delete_permission(request, obj)

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    # --- pages and actions ------------------------------------------------------------------

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<int:pk>/do/<str:action>/", view(self.action_view), name="campaigns_campaign_action"),
            path("<int:pk>/test-send/", view(self.test_send_view), name="campaigns_campaign_test_send"),
            path("<int:pk>/preview/", view(self.preview_view), name="campaigns_campaign_preview"),
            path("<int:pk>/progress/", view(self.progress_view), name="campaigns_campaign_progress"),
            path("<int:pk>/report/", view(self.report_view), name="campaigns_campaign_report"),
        ] + super().get_urls()

    ACTIONS = {
        "schedule": (lambda campaign, user: services.campaign_schedule(campaign=campaign, at=campaign.scheduled_at, by=user),
                     _("The campaign is scheduled.")),
        "send_now": (lambda campaign, user: services.campaign_send_now(campaign=campaign, by=user),
                     _("The campaign is starting; the progress shows below.")),
        "unschedule": (lambda campaign, user: services.campaign_unschedule(campaign=campaign, by=user),
                       _("The campaign is a draft again.")),
        "cancel": (lambda campaign, user: services.campaign_cancel(campaign=campaign, by=user), _("The campaign is cancelled.")),
        "resend_failed": (lambda campaign, user: services.campaign_resend_failed(campaign=campaign, by=user),
                          _("The failed messages are queued again.")),
        "resume": (lambda campaign, user: services.campaign_resume(campaign=campaign, by=user), _("Sending resumes.")),
        "pick_winner": (lambda campaign, user: services.campaign_pick_winner(campaign=campaign, force=True, by=user),
                        _("The winner goes to the rest of the audience.")),
    }

    def action_view(self, request, pk: int, action: str):
        """GET: a confirmation page that says what the action will do (who would receive the
        campaign, who is left out and why) with its own form; POST: do it. The campaign page links
        here, as the admin's delete link does: a form inside the change form would submit the
        change form instead."""
        if request.method not in ("GET", "POST"):
            return HttpResponseNotAllowed(["GET", "POST"])
        campaign = get_object_or_404(Campaign, pk=pk)
        if action not in self.ACTIONS:
            raise PermissionDenied
        if not self.has_change_permission(request, campaign):
            raise PermissionDenied
        schedule_form = ScheduleForm(request.POST if request.method == "POST" else None,
                                     initial={"at": campaign.scheduled_at}) if action == "schedule" else None
        if request.method == "GET" or (schedule_form is not None and not schedule_form.is_valid()):
            return self._confirmation(request, campaign, action, schedule_form)
        if schedule_form is not None and schedule_form.cleaned_data["at"]:
            campaign.scheduled_at = schedule_form.cleaned_data["at"]
        call, success = self.ACTIONS[action]
        try:
            call(campaign, request.user)
        except ValidationError as error:
            for message in error.messages:
                self.message_user(request, message, messages.ERROR)
        else:
            self.message_user(request, success, messages.SUCCESS)
        return redirect("admin:campaigns_campaign_change", campaign.pk)

    def _confirmation(self, request, campaign: Campaign, action: str, schedule_form=None):
        context = {
            "schedule_form": schedule_form, "media": self.media + schedule_form.media if schedule_form else self.media,
            **self.admin_site.each_context(request), "opts": self.model._meta, "original": campaign,
            "title": ACTION_QUESTIONS[action], "action": action, "confirm_label": ACTION_CONFIRM[action],
            "action_url": reverse("admin:campaigns_campaign_action", args=[campaign.pk, action]),
            **self._status_context(request, campaign),
        }
        return TemplateResponse(request, "admin/campaigns/campaign/action_confirmation.html", context)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        extra_context = extra_context or {}
        if object_id:
            campaign = Campaign.objects.filter(pk=object_id).first()
            if campaign is not None:
                extra_context.update(self._status_context(request, campaign))
        return super().changeform_view(request, object_id, form_url, extra_context)

    def _status_context(self, request, campaign: Campaign) -> dict:
        context = {"campaign": campaign, "can_act": self.has_change_permission(request, campaign),
                   "progress_url": reverse("admin:campaigns_campaign_progress", args=[campaign.pk])}
        if campaign.status in (Campaign.Status.DRAFT, Campaign.Status.SCHEDULED):
            context["estimate"] = campaign_audience_estimate(campaign)
            context["segment_sizes"] = [(segment, segment.size) for segment in campaign.segments.all()]
            context["excluded_sizes"] = [(segment, segment.size) for segment in campaign.excluded_segments.all()]
            if recommendations.campaign_uses_recommendations(campaign):
                context["without_recommendations"] = campaign_recipients_without_recommendations(campaign)
            try:
                services.campaign_check_ready(campaign)
            except ValidationError as error:
                context["not_ready"] = error.messages
        else:
            context["progress"] = selectors.campaign_progress(campaign)
        return context

    def progress_view(self, request, pk: int):
        campaign = get_object_or_404(Campaign, pk=pk)
        if not self.has_view_permission(request, campaign):
            raise PermissionDenied
        return JsonResponse(selectors.campaign_progress(campaign))

    def report_view(self, request, pk: int):
        campaign = get_object_or_404(Campaign, pk=pk)
        if not self.has_view_permission(request, campaign):
            raise PermissionDenied
        report = selectors.campaign_report(campaign)
        context = {
            **self.admin_site.each_context(request), "opts": self.model._meta, "original": campaign,
            "title": _("Report: %(name)s") % {"name": campaign.name}, "report": report,
            **report_charts(report), **lift_context(request, campaign),
        }
        return TemplateResponse(request, "admin/campaigns/campaign/report.html", context)

    def test_send_view(self, request, pk: int):
        campaign = get_object_or_404(Campaign, pk=pk)
        if not self.has_change_permission(request, campaign):
            raise PermissionDenied
        form = TestSendForm(request.POST or None, initial={"to": request.user.email})
        if request.method == "POST" and form.is_valid():
            customer = selectors.test_send_customer(form.cleaned_data["customer"])
            if form.cleaned_data["customer"] and customer is None:
                form.add_error("customer", _("No customer with this email or id."))
            else:
                try:
                    services.campaign_test_send(campaign=campaign, to=form.cleaned_data["to"], customer=customer,
                                                variant=form.cleaned_data["variant"], language=form.cleaned_data["language"],
                                                by=request.user)
                except ValidationError as error:
                    form.add_error(None, error)
                else:
                    self.message_user(request, _("A test was sent to %(to)s.") % {"to": form.cleaned_data["to"]},
                                      messages.SUCCESS)
                    return redirect("admin:campaigns_campaign_change", campaign.pk)
        context = {**self.admin_site.each_context(request), "opts": self.model._meta, "original": campaign,
                   "title": _("Test send: %(name)s") % {"name": campaign.name}, "form": form}
        return TemplateResponse(request, "admin/campaigns/campaign/test_send.html", context)

    def preview_view(self, request, pk: int):
        campaign = get_object_or_404(Campaign, pk=pk)
        if not self.has_view_permission(request, campaign):
            raise PermissionDenied
        reference = request.GET.get("customer", "")
        uses_picks = recommendations.campaign_uses_recommendations(campaign)
        customer = selectors.test_send_customer(reference) if reference else campaign_sample_recipient(
            campaign, with_recommendations=uses_picks)
        variant = request.GET.get("variant", "A")
        language = request.GET.get("language") or (customer.language if customer else "") or "en"
        previews, error = [], None
        channels = {"email": [Channel.EMAIL], "sms": [Channel.SMS], "preferred": [Channel.EMAIL, Channel.SMS]}[campaign.channel]
        if customer is None:
            error = (_("No customer with this email or id.") if reference else
                     _("Nobody would receive this campaign yet: there is no recipient to preview it as."))
            channels = []
        try:
            for channel in channels:
                previews.append(services.campaign_preview(campaign=campaign, customer=customer, variant=variant,
                                                          channel=channel, language=language))
        except ValidationError as problem:
            error = " ".join(problem.messages)
        context = {
            **self.admin_site.each_context(request), "opts": self.model._meta, "original": campaign,
            "title": _("Preview: %(name)s") % {"name": campaign.name}, "previews": previews, "error": error,
            "sample": customer, "variant": variant, "language": language,
            "variants": list(campaign.variants.values_list("label", flat=True)) or ["A"],
            "sample_without_recommendations": bool(uses_picks and customer is not None and previews
                                                   and not recommendations_for([customer.pk], limit=1).exists()),
        }
        return TemplateResponse(request, "admin/campaigns/campaign/preview.html", context)


ACTION_QUESTIONS = {
    "schedule": _("Schedule this campaign?"), "send_now": _("Send this campaign now?"),
    "unschedule": _("Take this campaign back to draft?"), "cancel": _("Cancel this campaign?"),
    "resend_failed": _("Resend the failed messages?"), "resume": _("Resume sending?"),
    "pick_winner": _("Send the winning variant now?"),
}
ACTION_CONFIRM = {
    "schedule": _("Yes, schedule it"), "send_now": _("Yes, send it now"), "unschedule": _("Yes, back to draft"),
    "cancel": _("Yes, cancel the campaign"), "resend_failed": _("Yes, resend them"), "resume": _("Yes, resume"),
    "pick_winner": _("Yes, send the winner"),
}


def report_charts(report) -> dict:
    total = report.total
    funnel = bar_chart(
        # "Delivered" only where a provider reports it: a console or file backend's messages are sent, no more.
        [(str(_("Sent")), total.sent),
         *([(str(_("Delivered")), total.delivered)] if total.reported else []),
         (str(_("Opened")), total.opened), (str(_("Clicked")), total.clicked), (str(_("Converted")), total.converted),
         (str(_("Unsubscribed")), total.unsubscribed)] if total.sent else [],
        title=str(_("Messages")), empty=str(_("No figures yet: nothing has been sent.")),
    )
    by_variant = None
    if len(report.variants) > 1:
        by_variant = bar_chart(
            labels=[str(row.variant) for row in report.variants],
            series=[Series(str(_("Click rate")), [row.click_rate for row in report.variants]),
                    Series(str(_("Conversion rate")), [row.conversion_rate for row in report.variants])],
            title=str(_("Click and conversion rate by variant")), value_suffix="%",
        )
    return {"funnel_chart": funnel, "variant_chart": by_variant}
