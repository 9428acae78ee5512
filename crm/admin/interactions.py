"""The interactions admin: support's log of calls, emails, chats and visits. Logging and
resolving go through crm.services, which stamp the dates and tell the apps above."""

from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from core.direction import isolate_codes_html
from core.templatetags.localized import local_digits
from crm import services
from crm.admin.common import CustomerSearchMixin, adopt
from crm.admin.filters import FollowUpFilter
from crm.admin.utils import FastChangeListMixin
from crm.models import Interaction


@admin.register(Interaction)
class InteractionAdmin(CustomerSearchMixin, FastChangeListMixin, admin.ModelAdmin):
    list_display = ("customer", "subject_shown", "channel", "status", "staff", "follow_up_on", "occurred_at")
    list_display_links = ("subject_shown",)
    list_select_related = ("customer", "staff")
    list_filter = (FollowUpFilter, "status", "channel", "direction")
    sortable_by = ("occurred_at",)
    search_fields = ("customer__email",)  # see CustomerSearchMixin
    search_help_text = _("Find a customer's interactions by the customer's email, phone, reference, order number or name.")
    raw_id_fields = ("customer", "order")
    readonly_fields = ("resolved_at", "created_at")
    fields = (
        "customer", "order", ("channel", "direction"), "subject", "body", "status", "staff", "occurred_at",
        "follow_up_on", "resolved_at", "created_at",
    )
    actions = ("mark_resolved",)

    @admin.display(description=_("subject"), ordering="subject")
    def subject_shown(self, obj):
        return isolate_codes_html(obj.subject_text)

    def get_object(self, request, object_id, from_field=None):
        """An interaction the product opened is edited in the reader's wording; saved unchanged, its stored
        wording is kept (save_model); changed, the staff member's words replace every language's."""
        obj = super().get_object(request, object_id, from_field)
        if obj is not None and obj.wording:
            obj.stored_wording = (obj.subject, obj.body)
            obj.subject, obj.body = obj.subject_text, obj.body_text
        return obj

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "staff":
            kwargs["queryset"] = get_user_model().objects.filter(is_staff=True, is_active=True).order_by("username")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_changeform_initial_data(self, request):
        return {"staff": request.user.pk, **super().get_changeform_initial_data(request)}

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)

        class InteractionForm(form):
            def clean(self):
                cleaned = super().clean()
                customer, order = cleaned.get("customer"), cleaned.get("order")
                if customer and order and order.customer_id != customer.pk:
                    self.add_error("order", gettext("That order belongs to another customer."))
                return cleaned

        return InteractionForm

    def save_model(self, request, obj, form, change):
        if not change:
            created = services.interaction_log(
                customer=obj.customer, subject=obj.subject, channel=obj.channel, direction=obj.direction, body=obj.body,
                status=obj.status, staff=obj.staff or request.user, occurred_at=obj.occurred_at,
                follow_up_on=obj.follow_up_on, order=obj.order,
            )
            adopt(obj, created)
            return
        if getattr(obj, "stored_wording", None):
            if {"subject", "body"} & set(form.changed_data):
                obj.wording = None
            else:
                obj.subject, obj.body = obj.stored_wording
        resolving = "status" in form.changed_data and obj.status == Interaction.Status.RESOLVED
        with transaction.atomic():
            if resolving:
                # Resolution is the service's: it stamps resolved_at and tells the apps above.
                obj.status = form.initial["status"]
            elif obj.status != Interaction.Status.RESOLVED:
                obj.resolved_at = None
            obj.save()
            if resolving:
                services.interaction_resolve(interaction=obj, by=request.user)

    @admin.action(description=_("Mark resolved"), permissions=("change",))
    def mark_resolved(self, request, queryset):
        resolved = 0
        for interaction in queryset.open():
            services.interaction_resolve(interaction=interaction, by=request.user)
            resolved += 1
        self.message_user(
            request,
            local_digits(ngettext("%(count)d interaction resolved.", "%(count)d interactions resolved.", resolved) % {"count": resolved}),
            messages.SUCCESS,
        )
