"""Segments in the Django admin: the rule builder, a live count and sample, static lists."""

import json

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext_lazy as _

from campaigns import rules as segment_rules
from campaigns.models import Segment, SegmentMember
from campaigns.segments import (
    segment_add_customers, segment_create, segment_customers, segment_import_csv, segment_members_refresh, segment_update,
)
from core.panels import ContributedListColumnsMixin
from core.rule_fields import OPERATOR_LABELS

SAMPLE_SIZE = 20

# Columns a higher app adds to the segment list (analytics: the latest retention and churn, a link
# to its page), with the annotations they read, so the list stays one query. campaigns may not
# import analytics; a stopgap until core's admin contribution registry takes over.
class RuleBuilderWidget(forms.Textarea):
    """The JSON stays in a textarea (readable, and usable without JavaScript); the
    builder script draws the ALL/ANY form over it and keeps the two in step."""

    template_name = "campaigns/rule_builder_widget.html"

    class Media:
        js = ("campaigns/rule-builder.js",)
        css = {"all": ("campaigns/rule-builder.css",)}

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        context["catalogue"] = segment_rules.field_catalogue()
        context["operator_labels"] = {op: str(label) for op, label in OPERATOR_LABELS.items()}
        context["preview_url"] = reverse("admin:campaigns_segment_preview")
        return context


class SegmentForm(forms.ModelForm):
    rules = forms.JSONField(required=False, widget=RuleBuilderWidget(attrs={"rows": 8, "cols": 80}),
                            help_text=_("Build the conditions above; the count and a sample update as you edit."))

    class Meta:
        model = Segment
        fields = ("name", "slug", "description", "kind", "rules")

    compiled_rules = None

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("kind") == Segment.Kind.DYNAMIC:
            rules = cleaned.get("rules") or {"all": []}
            try:
                # The one compile of this save: the service reuses it to count the segment.
                self.compiled_rules = segment_rules.compile_rules(rules)
            except ValidationError as error:
                self.add_error("rules", error)
            cleaned["rules"] = rules
        return cleaned


class CsvUploadForm(forms.Form):
    file = forms.FileField(label=_("CSV file of emails or external references"))


@admin.register(Segment)
class SegmentAdmin(ContributedListColumnsMixin, admin.ModelAdmin):
    form = SegmentForm
    list_display = ("name", "slug", "kind", "size", "members_computed_at")
    list_filter = ("kind",)
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}
    readonly_fields = ("size", "members_computed_at")
    change_form_template = "admin/campaigns/segment/change_form.html"
    actions = ["recount"]

    def save_model(self, request, obj, form, change):
        # The services own the write (validation, size, audit); the admin only collects the form.
        # A change updates the row it was opened on: renaming the slug keeps the segment and its campaigns.
        data = form.cleaned_data
        fields = {"slug": data["slug"], "name": data["name"], "kind": data["kind"], "rules": data.get("rules") or {},
                  "description": data.get("description", ""), "by": request.user, "compiled": form.compiled_rules}
        if change:
            segment = segment_update(segment=obj, **fields)
        else:
            segment = segment_create(**fields)
        obj.pk, obj.size, obj.size_counted_at = segment.pk, segment.size, segment.size_counted_at
        obj.members_computed_at = segment.members_computed_at

    @admin.action(description=_("Count again"), permissions=["view"])
    def recount(self, request, queryset):
        for segment in queryset:
            segment_members_refresh(segment=segment)
        self.message_user(request, _("Counted %(n)s segments.") % {"n": queryset.count()}, messages.SUCCESS)

    def get_urls(self):
        return [
            path("preview/", self.admin_site.admin_view(self.preview_view), name="campaigns_segment_preview"),
            path("<int:pk>/upload/", self.admin_site.admin_view(self.upload_view), name="campaigns_segment_upload"),
        ] + super().get_urls()

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        extra_context = extra_context or {}
        if object_id:
            segment = Segment.objects.filter(pk=object_id).first()
            if segment is not None:
                # Lazy: a POST that saves and redirects never renders it (and never compiles the old rules).
                extra_context["sample"] = SimpleLazyObject(lambda: _sample(segment_customers(segment)))
        return super().changeform_view(request, object_id, form_url, extra_context)

    def preview_view(self, request):
        """POST {"rules": {...}} -> {"count": n, "sample": [...]} or {"error": "..."} (400)."""
        if request.method != "POST":
            return JsonResponse({"error": "POST the rules as JSON."}, status=405)
        if not self.has_view_permission(request):
            raise PermissionDenied
        try:
            rules = json.loads(request.body or b"{}").get("rules")
            customers = segment_rules.customers_matching(rules)
            count = customers.count()
        except (ValueError, AttributeError, RecursionError):  # RecursionError: JSON nested thousands deep
            return JsonResponse({"error": str(_("The rules are not valid JSON."))}, status=400)
        except ValidationError as error:
            return JsonResponse({"error": " ".join(error.messages)}, status=400)
        return JsonResponse({"count": count, "sample": _sample(customers)})

    def upload_view(self, request, pk: int):
        segment = get_object_or_404(Segment, pk=pk)
        if not self.has_change_permission(request, segment):
            raise PermissionDenied
        form = CsvUploadForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            try:
                result = segment_import_csv(segment=segment, file=form.cleaned_data["file"], by=request.user)
            except ValidationError as error:
                for message in error.messages:
                    form.add_error("file", message)
            else:
                self.message_user(request, _("%(matched)s customers matched, %(added)s added.") % result, messages.SUCCESS)
                return redirect("admin:campaigns_segment_change", segment.pk)
        context = {**self.admin_site.each_context(request), "title": _("Upload customers to %(name)s") % {"name": segment.name},
                   "form": form, "segment": segment, "opts": self.model._meta}
        return TemplateResponse(request, "admin/campaigns/segment/upload.html", context)


def _sample(customers) -> list[dict]:
    rows = customers.order_by("-last_order_at", "pk").values("pk", "first_name", "last_name", "email", "city")[:SAMPLE_SIZE]
    return [
        {"name": f"{row['first_name']} {row['last_name']}".strip() or row["email"] or str(row["pk"]), "email": row["email"] or "",
         "city": row["city"], "url": reverse("admin:crm_customer_change", args=[row["pk"]])}
        for row in rows
    ]


@admin.register(SegmentMember)
class SegmentMemberAdmin(admin.ModelAdmin):
    list_display = ("segment", "customer", "added_at", "added_by")
    list_select_related = ("segment", "customer", "added_by")
    list_filter = ("segment",)
    raw_id_fields = ("customer",)
    show_full_result_count = False


class AddToSegmentForm(forms.Form):
    segment = forms.ModelChoiceField(queryset=Segment.objects.filter(kind=Segment.Kind.STATIC), label=_("Static segment"))


@admin.action(description=_("Add the selected customers to a static segment"), permissions=["view"])
def add_to_static_segment(modeladmin, request, queryset):
    """An action of the customer list (crm's admin), contributed in campaigns.contributions so crm never imports campaigns."""
    if not request.user.has_perm("campaigns.add_segmentmember"):
        raise PermissionDenied
    form = AddToSegmentForm(request.POST if "apply" in request.POST else None)
    if form.is_bound and form.is_valid():
        added = segment_add_customers(segment=form.cleaned_data["segment"], customers=queryset, by=request.user)
        modeladmin.message_user(request, _("%(n)s customers added to %(segment)s.") % {
            "n": added, "segment": form.cleaned_data["segment"]}, messages.SUCCESS)
        return None
    context = {**modeladmin.admin_site.each_context(request), "title": _("Add customers to a static segment"),
               "form": form, "queryset": queryset, "opts": modeladmin.model._meta,
               "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME, "count": queryset.count()}
    return TemplateResponse(request, "admin/campaigns/segment/add_customers.html", context)

