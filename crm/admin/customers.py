"""The customer admin, for support staff first: find a customer, read their timeline, log
what happened.

Every write goes through crm.services. The list uses crm.admin.utils.FastChangeListMixin
(estimated counts) and shows no column or filter that costs a query per row or a scan of
the table.
"""

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import F
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from core import audit, timeline
from core.templatetags.localized import local_datetime
from core.links import customer_links
from core.panels import ContributedActionsMixin, customer_panels
from crm import access, services
from crm.admin.common import adopt, money
from crm.admin.filters import CountryFilter, LifecycleStageFilter, TagFilter
from crm.admin.forms import InteractionLogForm
from crm.admin.imports import CsvImportAdminMixin
from crm.admin.privacy import CustomerPrivacyAdminMixin
from crm.admin.utils import FastChangeListMixin
from crm.models import Customer, CustomerAccess, Interaction

TIMELINE_LIMIT = 50
HISTORY_LIMIT = 20
ACCESS_LIMIT = 10
CUSTOMER_SEARCH_HELP = _(
    "Email, phone number, external reference, order number, or the start of a name (\"sar\", \"sara ahm\")."
)


@admin.register(Customer)
class CustomerAdmin(ContributedActionsMixin, CustomerPrivacyAdminMixin, CsvImportAdminMixin, FastChangeListMixin,
                    admin.ModelAdmin):
    import_kind = "customers"
    change_form_template = "admin/crm/customer/change_form.html"

    list_display = (
        "display_name", "email", "phone", "city", "lifecycle_badge", "orders_count", "total_spent_display",
        "last_order_at_display",
    )
    list_display_links = ("display_name", "email")
    # Only what an index serves; sorting 1,000,000 rows by name would be a full scan.
    sortable_by = ("last_order_at_display",)
    list_filter = (LifecycleStageFilter, "language", CountryFilter, "email_opt_in", "sms_opt_in", TagFilter)
    # Searching is Customer.objects.search (get_search_results); these only switch the box on.
    search_fields = ("email", "phone", "external_ref", "first_name", "last_name")
    search_help_text = CUSTOMER_SEARCH_HELP
    autocomplete_fields = ("tags",)
    readonly_fields = (
        "public_id", "lifecycle_badge", "orders_count", "total_spent_display", "first_order_at_display",
        "last_order_at_display", "created_at_display", "updated_at_display",
    )
    fieldsets = (
        (None, {"fields": (("first_name", "last_name"), "email", "phone", "external_ref")}),
        (_("Profile"), {"fields": (
            "birth_date", "gender", "language", ("city", "country"), "source", "acquired_at", "tags", "notes",
        )}),
        (_("Consent"), {
            "fields": ("email_opt_in", "sms_opt_in"),
            "description": _("Every change is recorded in the consent history, with you as the author."),
        }),
    )
    change_fieldsets = (
        (_("Purchases"), {"fields": (
            "lifecycle_badge", "orders_count", "total_spent_display", "first_order_at_display", "last_order_at_display",
        )}),
        (_("Record"), {"fields": ("public_id", "created_at_display", "updated_at_display"), "classes": ("collapse",)}),
    )

    class Media:
        css = {"all": ("crm/admin.css",)}

    def get_queryset(self, request):
        return super().get_queryset(request).with_lifecycle_stage()

    def get_search_results(self, request, queryset, search_term):
        if not search_term.strip():
            return queryset, False
        # Each branch of the search is an indexed lookup and none multiplies rows.
        return queryset.search(search_term), False

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return self.fieldsets
        return self.fieldsets + self.change_fieldsets

    # Columns

    @admin.display(description=_("name"))
    def display_name(self, obj):
        return obj.full_name or "-"

    @admin.display(description=_("lifecycle stage"))
    def lifecycle_badge(self, obj):
        stage = getattr(obj, "lifecycle_stage", None)
        if not stage:
            return "-"
        return format_html(
            '<span class="crm-badge crm-stage-{}">{}</span>', stage, Customer.LifecycleStage(stage).label
        )

    @admin.display(description=_("total spent"))
    def total_spent_display(self, obj):
        return money(obj.total_spent)

    # Newest first, customers who never ordered last (reversed: oldest first, after those
    # who never ordered). An index of migration 0004 serves both directions.
    @admin.display(description=_("last order"), ordering=F("last_order_at").desc(nulls_last=True), empty_value="-")
    def last_order_at_display(self, obj):
        return local_datetime(obj.last_order_at) if obj.last_order_at else "-"  # a read-only field prints None as "None"

    # One date format on the customer page, the staff member's language's (core.templatetags.localized).
    @admin.display(description=_("first order"), empty_value="-")
    def first_order_at_display(self, obj):
        return local_datetime(obj.first_order_at) if obj.first_order_at else "-"

    @admin.display(description=_("created"))
    def created_at_display(self, obj):
        return local_datetime(obj.created_at)

    @admin.display(description=_("updated"))
    def updated_at_display(self, obj):
        return local_datetime(obj.updated_at)

    # Writes go through the services, which own normalisation, consent history and events.

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        values = {name: data[name] for name in services.CUSTOMER_FIELDS if name in data}
        tags = [tag.name for tag in data.get("tags", ())]
        if not change:
            created = services.customer_create(
                **values, tags=tags, email_opt_in=bool(data.get("email_opt_in")), sms_opt_in=bool(data.get("sms_opt_in")),
                consent_source="admin", by=request.user,
            )
            adopt(obj, created)
            return
        changed = set(form.changed_data)
        # The form already set the new consent on the instance; put the old one back so
        # consent_set sees the change and records it.
        consent = {}
        for name in services.CONSENT_FIELDS:
            if name in changed:
                consent[name] = data[name]
                setattr(obj, name, form.initial.get(name, False))
        services.customer_update(
            customer=obj,
            values={**{name: value for name, value in values.items() if name in changed}, **consent},
            tags=tags if "tags" in changed else None,
            consent_source="admin",
            by=request.user,
        )

    def save_related(self, request, form, formsets, change):
        # Tags were saved by the service in save_model.
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    # The customer page: timeline and "log an interaction"

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                "<path:object_id>/log-interaction/",
                self.admin_site.admin_view(self.log_interaction_view),
                name="%s_%s_log_interaction" % info,
            ),
            *super().get_urls(),
        ]

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if change and obj is not None:
            if request.method == "GET":
                # Staff views of personal data are logged (issue 8), and shown on the page below.
                access.access_log(customer=obj, action=CustomerAccess.Action.VIEWED, by=request.user, source="admin")
            context.update(self._customer_page_context(request, obj))
        return super().render_change_form(request, context, add=add, change=change, form_url=form_url, obj=obj)

    def _customer_page_context(self, request, customer, interaction_form=None):
        kinds = timeline.registered_kinds()
        selected = request.GET.get("timeline")
        if selected not in kinds:
            selected = None
        entries = timeline.customer_timeline(customer, limit=TIMELINE_LIMIT, kinds=[selected] if selected else None)
        context = {
            "timeline": [{"entry": entry, "label": timeline.kind_label(entry.kind)} for entry in entries],
            "timeline_kinds": [
                {"name": kind, "label": timeline.kind_label(kind), "url": _with_param(request, "timeline", kind),
                 "selected": kind == selected}
                for kind in kinds
            ],
            "timeline_all_url": _with_param(request, "timeline", None),
            "timeline_kind": selected,
            "timeline_limit": TIMELINE_LIMIT,
            "customer_panels": customer_panels(request, customer),
            "customer_links": customer_links(customer),
            # The audit trail (core.audit): recent changes with before and after, and recent views.
            "customer_history": audit.customer_history(customer, limit=HISTORY_LIMIT),
            "customer_history_limit": HISTORY_LIMIT,
            "customer_accesses": access.recent_accesses(customer, limit=ACCESS_LIMIT),
            "customer_orders_url": reverse("admin:crm_order_changelist") + f"?customer__id__exact={customer.pk}",
            "customer_interactions_url": reverse("admin:crm_interaction_changelist") + f"?customer__id__exact={customer.pk}",
        }
        if request.user.has_perm("crm.add_interaction"):
            context["interaction_form"] = interaction_form or InteractionLogForm(customer=customer)
            context["log_interaction_url"] = reverse("admin:crm_customer_log_interaction", args=[customer.pk])
        return context

    def log_interaction_view(self, request, object_id):
        if not request.user.has_perm("crm.add_interaction") or not self.has_view_or_change_permission(request):
            raise PermissionDenied
        customer = self.get_object(request, unquote(object_id))
        if customer is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if request.method == "POST":
            form = InteractionLogForm(request.POST, customer=customer)
            if form.is_valid():
                try:
                    interaction = services.interaction_log(customer=customer, staff=request.user, **form.cleaned_data)
                except ValidationError as error:
                    form.add_service_error(error)
                else:
                    self._log_interaction_addition(request, interaction)
                    messages.success(request, gettext("Interaction “%(subject)s” logged.") % {"subject": interaction.subject})
                    change_url = reverse("admin:crm_customer_change", args=[customer.pk])
                    return HttpResponseRedirect(f"{change_url}#crm-timeline")
        else:
            form = InteractionLogForm(customer=customer)
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Log an interaction"),
            "subtitle": str(customer),
            "opts": self.opts,
            "original": customer,
            "interaction_form": form,
            "log_interaction_url": request.path,
        }
        return TemplateResponse(request, "admin/crm/customer/log_interaction.html", context, status=200)

    def _log_interaction_addition(self, request, interaction):
        if self.admin_site.is_registered(Interaction):
            self.admin_site.get_model_admin(Interaction).log_addition(request, interaction, [{"added": {}}])


def _with_param(request, name: str, value: str | None) -> str:
    params = request.GET.copy()
    params.pop(name, None)
    if value:
        params[name] = value
    query = params.urlencode()
    return f"?{query}#crm-timeline" if query else "?#crm-timeline"
