"""Messages in the Django admin: read-only, filtered by delivery status and engagement."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from campaigns.models import DeliveryEvent, Engagement, Message
from campaigns.services import after_send
from crm.admin.utils import FastChangeListMixin, ReadOnlyAdminMixin


class EngagementFilter(admin.SimpleListFilter):
    """Engagement from the timestamps (a message that was clicked is also listed as opened)."""

    title = _("engagement")
    parameter_name = "engagement"
    NONE = "none"

    def lookups(self, request, model_admin):
        return [*Engagement.choices, (self.NONE, _("None yet"))]

    def queryset(self, request, queryset):
        value = self.value()
        if value == self.NONE:
            return queryset.not_engaged()
        if value in Engagement.values:
            return queryset.engaged(value)
        return queryset


class DeliveryEventInline(admin.TabularInline):
    """What the provider reported about the message, read-only."""

    model = DeliveryEvent
    extra = 0
    can_delete = False
    fields = readonly_fields = ("occurred_at", "kind", "outcome", "provider", "provider_status", "reason", "url")
    ordering = ("-occurred_at", "-id")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Message)
class MessageAdmin(ReadOnlyAdminMixin, FastChangeListMixin, admin.ModelAdmin):
    list_display = ("customer", "channel", "source_display", "variant", "status", "engagement_display", "created_at",
                    "sent_at", "delivered_at", "opened_at", "clicked_at", "converted_at")
    list_select_related = ("customer", "campaign", "automation")
    list_filter = ("status", EngagementFilter, "channel", "is_marketing")
    search_fields = ("to_address", "customer__email", "=provider_id")
    raw_id_fields = ("customer", "campaign", "automation", "coupon", "conversion_order")
    readonly_fields = [field.name for field in Message._meta.fields if field.name != "context"] + [
        "engagement_display", "context_display"]
    exclude = ("context",)
    inlines = [DeliveryEventInline]

    @admin.display(description=_("campaign or automation"))
    def source_display(self, message):
        return message.campaign or message.automation or "-"

    @admin.display(description=_("engagement"))
    def engagement_display(self, message):
        return message.get_engagement_display() or "-"

    @admin.display(description=_("context"))
    def context_display(self, message):
        # What the source forgets once sent (a single-use link) is never shown, sent or not.
        forget = after_send.hooks_for(message).forget
        return {key: value for key, value in (message.context or {}).items() if key not in forget}
