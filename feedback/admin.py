from datetime import timedelta

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from modeltranslation.admin import TranslationAdmin, TranslationStackedInline, TranslationTabularInline

from core.admin_utils import LabelledInlineMixin
from core.charts import bar_chart, line_chart
from club.codes import coupon_code_format
from feedback import selectors, services
from feedback.models import (
    Answer, Choice, Invitation, Question, Response, ReturnEvent, ReturnLine, ReturnRequest, Survey,
)
from feedback.services import returns


class QuestionInline(TranslationStackedInline):
    model = Question
    extra = 0
    fields = ("position", "type", "text", "help_text", "required", "scores")
    show_change_link = True


@admin.register(Survey)
class SurveyAdmin(TranslationAdmin):
    list_display = ("title", "kind", "trigger", "is_active", "starts_at", "ends_at", "results_link")
    list_filter = ("kind", "trigger", "is_active")
    search_fields = ("title",)
    inlines = [QuestionInline]
    fieldsets = (
        (None, {"fields": ("title", "intro", "thank_you", "kind", "languages")}),
        (_("When"), {"fields": ("is_active", "starts_at", "ends_at", "trigger", "trigger_delay_days", "cooldown_days",
                                "invitation_valid_days", "public_slug")}),
    )

    @admin.display(description=_("Results"))
    def results_link(self, survey):
        return format_html('<a href="{}">{}</a>', reverse("admin:feedback_survey_results", args=[survey.pk]), _("Results"))

    def get_urls(self):
        return [
            path("<int:survey_id>/results/", self.admin_site.admin_view(self.results_view), name="feedback_survey_results"),
        ] + super().get_urls()

    def results_view(self, request, survey_id: int):
        survey = get_object_or_404(Survey, pk=survey_id)
        if not self.has_view_permission(request, survey):
            raise PermissionDenied
        scores = selectors.survey_scores(survey)
        charts = []
        for question in survey.questions.all():
            if question.type in (Question.Type.NPS, Question.Type.RATING):
                data = [(str(value), count) for value, count in selectors.score_distribution(question)]
            elif question.has_choices:
                data = selectors.choice_distribution(question)
            else:
                continue
            answered = any(count for _label, count in data)
            charts.append((question, bar_chart(data if answered else [], title=question.text,
                                               empty=_("No answers to this question yet."))))
        trend = selectors.monthly_trend(survey)
        trend_chart = None
        if trend:
            key = "nps" if scores.nps_answers else "csat"
            trend_chart = line_chart(
                [(row["month"].strftime("%Y-%m"), row[key]) for row in trend],
                title=_("NPS by month") if key == "nps" else _("CSAT by month"),
                minimum=-100 if key == "nps" else 0, maximum=100,
            )
        context = {
            **self.admin_site.each_context(request),
            "title": _("Results: %(survey)s") % {"survey": survey.title},
            "opts": self.model._meta, "original": survey, "survey": survey, "scores": scores, "charts": charts,
            "trend_chart": trend_chart, "free_text": selectors.free_text_answers(survey),
        }
        return TemplateResponse(request, "admin/feedback/survey/results.html", context)


class ChoiceInline(LabelledInlineMixin, TranslationTabularInline):
    model = Choice
    extra = 0


@admin.register(Question)
class QuestionAdmin(TranslationAdmin):
    list_display = ("text", "survey", "type", "required", "scores")
    list_select_related = ("survey",)
    list_filter = ("type",)
    inlines = [ChoiceInline]
    raw_id_fields = ("survey",)


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ("survey", "customer", "created_at", "sent_at", "opened_at", "answered_at", "expires_at")
    list_select_related = ("survey", "customer")
    list_filter = ("survey",)
    raw_id_fields = ("customer", "order", "interaction")
    readonly_fields = ("created_at", "sent_at", "opened_at", "answered_at", "expires_at")
    fields = ("survey", "customer", "order", "interaction", *readonly_fields)
    show_full_result_count = False

    def has_change_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        created = services.invitation_create(
            survey=obj.survey, customer=obj.customer, order=obj.order, interaction=obj.interaction, respect_cooldown=False
        )
        obj.pk = created.invitation.pk
        link = request.build_absolute_uri(created.path)
        messages.warning(request, format_html(_("Invitation created. Its link is shown only once: {}"), link))


class AnswerInline(admin.TabularInline):
    model = Answer
    extra = 0
    fields = ("question", "number", "text", "chosen")
    readonly_fields = fields
    can_delete = False

    @admin.display(description=_("choices"))
    def chosen(self, answer):
        return ", ".join(choice.label for choice in answer.choices.all())

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("question").prefetch_related("choices")

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Response)
class ResponseAdmin(admin.ModelAdmin):
    list_display = ("survey", "customer", "language", "submitted_at", "follow_up")
    list_select_related = ("survey", "customer", "follow_up")
    list_filter = ("survey", "language")
    readonly_fields = ("survey", "invitation", "customer", "language", "submitted_at", "follow_up")
    inlines = [AnswerInline]
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class ReturnAgeFilter(admin.SimpleListFilter):
    title = _("age")
    parameter_name = "age"

    def lookups(self, request, model_admin):
        return [("new", _("Under 2 days")), ("week", _("2 to 7 days")), ("old", _("Over 7 days"))]

    def queryset(self, request, queryset):
        now = timezone.now()
        if self.value() == "new":
            return queryset.filter(created_at__gte=now - timedelta(days=2))
        if self.value() == "week":
            return queryset.filter(created_at__lt=now - timedelta(days=2), created_at__gte=now - timedelta(days=7))
        if self.value() == "old":
            return queryset.filter(created_at__lt=now - timedelta(days=7))
        return queryset


class ReturnLineInline(admin.TabularInline):
    model = ReturnLine
    extra = 0
    fields = ("item", "bought", "quantity", "reason", "note")
    readonly_fields = fields
    can_delete = False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("order_line")

    @admin.display(description=_("item"))
    def item(self, line):
        # The SKU is a left-to-right island: inside a right-to-left page it would otherwise be jumbled.
        order_line = line.order_line
        if order_line.product_name:
            return format_html('{} (<bdi dir="ltr">{}</bdi>)', order_line.product_name, order_line.sku)
        return format_html('<bdi dir="ltr">{}</bdi>', order_line.sku)

    @admin.display(description=_("bought"))
    def bought(self, line):
        return line.order_line.quantity

    def has_add_permission(self, request, obj=None):
        return False


class ReturnEventInline(admin.TabularInline):
    model = ReturnEvent
    extra = 0
    fields = ("at", "from_label", "to_label", "by", "audit_source", "note")
    readonly_fields = fields
    can_delete = False

    @admin.display(description=_("from"))
    def from_label(self, event):
        return event.state_label(event.from_state)

    @admin.display(description=_("to"))
    def to_label(self, event):
        return event.state_label(event.to_state)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("by")

    def has_add_permission(self, request, obj=None):
        return False


def _transition_action(state: str, label):
    def action(modeladmin, request, queryset):
        done = 0
        for return_request in queryset.select_related("order"):
            try:
                returns.return_transition(return_request=return_request, to_state=state, by=request.user)
                done += 1
            except ValidationError as error:
                modeladmin.message_user(request, f"{return_request}: {' '.join(error.messages)}", messages.ERROR)
        if done:
            modeladmin.message_user(request, _("%(count)s returns updated.") % {"count": done}, messages.SUCCESS)

    action.__name__ = f"mark_{state}"
    return admin.action(description=label, permissions=["process"])(action)


# Buttons and actions are named after what staff do ("Approve"), not the state it leads to ("Approved").
ACTION_LABELS = {
    ReturnRequest.State.APPROVED: _("Approve"), ReturnRequest.State.REJECTED: _("Reject"),
    ReturnRequest.State.RECEIVED: _("Mark received"), ReturnRequest.State.REFUNDED: _("Refund"),
    ReturnRequest.State.EXCHANGED: _("Mark exchanged"), ReturnRequest.State.CREDITED: _("Issue store credit"),
    ReturnRequest.State.CLOSED: _("Close"),
}


@admin.register(ReturnRequest)
class ReturnRequestAdmin(admin.ModelAdmin):
    list_display = ("__str__", "customer", "state", "resolution", "channel", "created_at", "refund_amount")
    list_select_related = ("order", "customer")
    list_filter = ("state", ReturnAgeFilter, "resolution", "channel")
    search_fields = ("=order__order_number",)
    raw_id_fields = ("order", "customer")
    readonly_fields = ("order", "customer", "state", "resolution", "channel", "note", "refund_amount", "store_credit",
                       "created_at", "created_by")
    inlines = [ReturnLineInline, ReturnEventInline]
    change_form_template = "admin/feedback/returnrequest/change_form.html"
    change_list_template = "admin/feedback/returnrequest/change_list.html"
    show_full_result_count = False
    actions = [_transition_action(state, label) for state, label in ACTION_LABELS.items()]

    def has_process_permission(self, request):
        return request.user.has_perm("feedback.process_return")

    @admin.display(description=_("store credit"))
    def store_credit(self, obj):
        # A coupon code reads as on the club card and in the API (ABCD-EFGH-JKMN), left to right.
        reference = obj.credit_reference
        if not reference:
            return "-"
        return format_html('<bdi dir="ltr">{}</bdi>', reference if reference.startswith("points:") else coupon_code_format(reference))

    def has_add_permission(self, request):
        return False  # returns are requested on the customer's page, through the API, or with the button on an order

    def has_change_permission(self, request, obj=None):
        return self.has_view_permission(request, obj) and self.has_process_permission(request)

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        return [
            path("<int:pk>/transition/<str:state>/", self.admin_site.admin_view(self.transition_view),
                 name="feedback_returnrequest_transition"),
            path("report/", self.admin_site.admin_view(self.report_view), name="feedback_returnrequest_report"),
        ] + super().get_urls()

    def transition_view(self, request, pk: int, state: str):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not self.has_process_permission(request):
            raise PermissionDenied
        return_request = get_object_or_404(ReturnRequest, pk=pk)
        try:
            returns.return_transition(return_request=return_request, to_state=state, by=request.user,
                                      note=request.POST.get("note", ""))
        except ValidationError as error:
            self.message_user(request, " ".join(error.messages), messages.ERROR)
        else:
            self.message_user(request, _("The return is now %(state)s.") % {"state": ReturnRequest.State(state).label},
                              messages.SUCCESS)
        return redirect("admin:feedback_returnrequest_change", pk)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        extra_context = extra_context or {}
        if object_id:
            current = ReturnRequest.objects.filter(pk=object_id).values_list("state", flat=True).first()
            extra_context["next_states"] = [
                (state, label) for state, label in ACTION_LABELS.items() if state in returns.TRANSITIONS.get(current, ())
            ] if self.has_process_permission(request) else []
        return super().changeform_view(request, object_id, form_url, extra_context)

    def report_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        by_reason = selectors.returns_by_reason()
        by_category = selectors.return_rate_by_category()
        context = {
            **self.admin_site.each_context(request), "title": _("Returns report"), "opts": self.model._meta,
            "by_reason": by_reason, "by_category": by_category,
            "reason_chart": bar_chart([(row["label"], row["units"]) for row in by_reason], title=_("Returned units by reason"),
                                      empty=_("No returns yet.")),
            "category_chart": bar_chart([(row["category"], round(100 * (row["rate"] or 0), 1)) for row in by_category],
                                        title=_("Return rate by category (%)"), value_suffix="%",
                                        empty=_("No returns yet.")),
        }
        return TemplateResponse(request, "admin/feedback/returnrequest/report.html", context)
