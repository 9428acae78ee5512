"""Partners, their keys and webhooks; superusers only (no staff role is granted these models).

A key's secret is shown once, in the message after it is created; only its hash is kept.
A webhook subscription's signing secret is shown when it is created and stays readable here
(it must be kept in clear to sign); webhook deliveries are read-only, with a "retry now" action."""

import json

from datetime import timedelta

from django import forms
from django.contrib import admin, messages
from django.db.models import Count, Q
from django.utils import timezone
from django.core.exceptions import ValidationError
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _, ngettext

from api import services, webhooks
from api.keys import api_keys_forget
from api.models import (
    ApiCall,
    ApiKey,
    Partner,
    PartnerCustomer,
    WebhookDelivery,
    WebhookDeliveryAttempt,
    WebhookEvent,
    WebhookSubscription,
)
from api.scopes import SCOPES
from core.templatetags.localized import local_digits

RECENT_CALLS = 20


class ApiKeyInline(admin.TabularInline):
    model = ApiKey
    extra = 0
    can_delete = False
    show_change_link = True
    fields = ("prefix", "name", "scopes", "own_data_only", "expires_at", "revoked_at", "last_used_at", "created_at")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False  # keys are made on the API key page, which shows the secret once


class WebhookSubscriptionInline(admin.TabularInline):
    model = WebhookSubscription
    extra = 0
    can_delete = False
    show_change_link = True
    fields = ("url", "events", "own_data_only", "active", "created_at")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False  # made on the subscription page, which shows the new secret


@admin.register(Partner)
class PartnerAdmin(admin.ModelAdmin):
    list_display = ("name", "contact", "active", "calls_24h", "error_rate_24h", "created_at")
    list_filter = ("active",)
    search_fields = ("name", "contact")
    readonly_fields = ("recent_calls",)
    inlines = [ApiKeyInline, WebhookSubscriptionInline]

    def get_queryset(self, request):
        since = timezone.now() - timedelta(hours=24)
        recent = Q(calls__at__gte=since)
        return super().get_queryset(request).annotate(
            calls_count=Count("calls", filter=recent), errors_count=Count("calls", filter=recent & Q(calls__status__gte=400)),
        )

    @admin.display(description=_("calls (24 h)"), ordering="calls_count")
    def calls_24h(self, obj):
        return obj.calls_count

    @admin.display(description=_("error rate (24 h)"), ordering="errors_count")
    def error_rate_24h(self, obj):
        return f"{100 * obj.errors_count / obj.calls_count:.1f}%" if obj.calls_count else "-"

    @admin.display(description=_("recent calls"))
    def recent_calls(self, obj):
        calls = ApiCall.objects.filter(partner=obj)[:RECENT_CALLS] if obj.pk else []
        return format_html(
            "<table><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>{}</table>",
            _("at"), _("key"), _("method"), _("path"), _("status"), _("ms"),
            format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>", (
                (timezone.localtime(call.at).strftime("%Y-%m-%d %H:%M:%S"), call.key_prefix, call.method, call.path,
                 call.status, call.duration_ms) for call in calls
            )),
        )


@admin.register(ApiCall)
class ApiCallAdmin(admin.ModelAdmin):
    list_display = ("at", "partner", "key_prefix", "method", "path", "status", "duration_ms")
    list_filter = ("partner", "method", "status")
    search_fields = ("path", "key_prefix")
    list_select_related = ("partner",)
    date_hierarchy = "at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class ApiKeyCreateForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(choices=[(scope, scope) for scope in SCOPES], widget=forms.CheckboxSelectMultiple)

    class Meta:
        model = ApiKey
        fields = ("partner", "name", "scopes", "own_data_only", "expires_at")


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ("prefix", "partner", "name", "own_data_only", "state", "expires_at", "revoked_at", "last_used_at")
    list_filter = ("own_data_only", "partner")
    search_fields = ("prefix", "name", "partner__name")
    list_select_related = ("partner",)
    readonly_fields = ("partner", "prefix", "scopes", "own_data_only", "state", "created_at", "last_used_at", "revoked_at")
    fields = ("partner", "name", "prefix", "scopes", "own_data_only", "state", "expires_at", "revoked_at", "last_used_at",
              "created_at")
    actions = ["revoke_keys"]

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = ApiKeyCreateForm
        return super().get_form(request, obj, **kwargs)

    def get_fields(self, request, obj=None):
        return ApiKeyCreateForm.Meta.fields if obj is None else self.fields

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else self.readonly_fields

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)
        key, secret = services.api_key_create(
            partner=form.cleaned_data["partner"], scopes=form.cleaned_data["scopes"],
            own_data_only=form.cleaned_data["own_data_only"], expires_at=form.cleaned_data["expires_at"],
            name=form.cleaned_data["name"],
        )
        obj.pk = key.pk
        obj.refresh_from_db()
        messages.warning(request, _("The new API key is %(key)s - copy it now, it will not be shown again.") % {"key": secret})

    @admin.display(description=_("state"))
    def state(self, key: ApiKey) -> str:
        """Why calls with the key are refused: the caller is only told "Invalid API key."."""
        return key.refusal() or _("usable")

    @admin.action(description=_("Revoke the selected keys"))
    def revoke_keys(self, request, queryset):
        count = queryset.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
        api_keys_forget()
        self.message_user(request, local_digits(ngettext("%d key revoked.", "%d keys revoked.", count) % count))


@admin.register(PartnerCustomer)
class PartnerCustomerAdmin(admin.ModelAdmin):
    list_display = ("partner", "customer", "created", "linked_at")
    list_filter = ("partner", "created")
    raw_id_fields = ("customer",)
    list_select_related = ("partner", "customer")


# --- Webhooks ------------------------------------------------------------------------------------


class WebhookSubscriptionForm(forms.ModelForm):
    url = forms.URLField(label=_("URL"), max_length=500, assume_scheme="https")
    events = forms.MultipleChoiceField(choices=WebhookEvent.choices, widget=forms.CheckboxSelectMultiple, label=_("events"))

    class Meta:
        model = WebhookSubscription
        fields = ("partner", "url", "events", "own_data_only", "active")

    def clean_url(self):
        try:
            return webhooks.url_clean(self.cleaned_data["url"])
        except ValidationError as error:
            raise ValidationError(error.message_dict["url"]) from None

    def clean_events(self):
        return webhooks.events_clean(self.cleaned_data["events"])


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(admin.ModelAdmin):
    form = WebhookSubscriptionForm
    list_display = ("url", "partner", "event_list", "own_data_only", "active", "created_at")
    list_filter = ("active", "own_data_only", "partner")
    search_fields = ("url", "partner__name")
    list_select_related = ("partner",)
    readonly_fields = ("public_id", "secret", "created_at", "recent_deliveries")

    def get_fields(self, request, obj=None):
        fields = list(WebhookSubscriptionForm.Meta.fields)
        return fields if obj is None else [*fields, "public_id", "secret", "created_at", "recent_deliveries"]

    def get_readonly_fields(self, request, obj=None):
        # The partner and the own-data-only filter are fixed once made (what the partner agreed to receive).
        return () if obj is None else ("partner", "own_data_only", *self.readonly_fields)

    @admin.display(description=_("events"))
    def event_list(self, obj):
        return ", ".join(obj.events or [])

    @admin.display(description=_("recent deliveries"))
    def recent_deliveries(self, obj):
        rows = obj.deliveries.order_by("-created_at", "-id")[:RECENT_CALLS] if obj.pk else []
        return format_html(
            "<table><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>{}</table>",
            _("created"), _("event"), _("status"), _("attempts"), _("last status code"), _("last error"),
            format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>", (
                (timezone.localtime(row.created_at).strftime("%Y-%m-%d %H:%M:%S"), row.event, row.get_status_display(),
                 row.attempts, row.last_status_code or "-", row.last_error or "-") for row in rows
            )),
        )

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)
        data = form.cleaned_data
        subscription = webhooks.webhook_subscribe(
            partner=data["partner"], url=data["url"], events=data["events"], own_data_only=data["own_data_only"],
            active=data["active"],
        )
        obj.pk = subscription.pk
        obj.refresh_from_db()
        messages.warning(request, _("The signing secret is %(secret)s - give it to the partner; it is also shown on "
                                    "this page to superusers.") % {"secret": subscription.secret})


class WebhookDeliveryAttemptInline(admin.TabularInline):
    """Every attempt of the delivery, read-only: one query for all of them (no foreign key shown)."""

    model = WebhookDeliveryAttempt
    extra = 0
    can_delete = False
    fields = ("number", "started_at", "duration_ms", "status_code", "error", "response_excerpt")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = ("created_at", "event", "partner", "status", "attempts", "last_status_code", "last_attempt_at",
                    "next_attempt_at", "delivered_at")
    list_filter = ("status", "event", "subscription__partner")
    search_fields = ("=event_id", "subscription__url", "subscription__partner__name")
    list_select_related = ("subscription__partner",)
    date_hierarchy = "created_at"
    fields = ("subscription", "event", "event_id", "status", "attempts", "last_status_code", "last_error",
              "last_attempt_at", "next_attempt_at", "delivered_at", "created_at", "payload_pretty")
    readonly_fields = fields
    inlines = [WebhookDeliveryAttemptInline]
    actions = ["retry_now"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description=_("partner"), ordering="subscription__partner__name")
    def partner(self, obj):
        return obj.subscription.partner

    @admin.display(description=_("payload"))
    def payload_pretty(self, obj):
        return format_html("<pre>{}</pre>", json.dumps(obj.payload, indent=2, ensure_ascii=False, sort_keys=True))

    @admin.action(description=_("Retry the selected deliveries now"))
    def retry_now(self, request, queryset):
        count = webhooks.deliveries_retry(delivery_ids=queryset.values_list("pk", flat=True))
        skipped = queryset.count() - count
        self.message_user(request, local_digits(ngettext("%d delivery queued.", "%d deliveries queued.", count) % count))
        if skipped:
            self.message_user(request, local_digits(ngettext("%d delivered delivery was left alone.",
                                                             "%d delivered deliveries were left alone.", skipped) % skipped),
                              messages.WARNING)
