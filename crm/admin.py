"""The crm admin, for support staff first: find a customer, read their timeline, log
what happened, process a cancellation or a refund.

Every write goes through crm.services. Lists over big tables use
crm.admin_utils.FastChangeListMixin (estimated counts) and show no column or filter
that costs a query per row or a scan of the table.
"""

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.formats import number_format
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from core import audit, timeline
from core.panels import ContributedActionsMixin, customer_panels
from crm import access, services
from crm.admin_import import CsvImportAdminMixin
from crm.admin_privacy import CustomerPrivacyAdminMixin
from crm.admin_filters import CountryFilter, FollowUpFilter, LifecycleStageFilter, TagFilter
from crm.admin_forms import InteractionLogForm, OrderRefundForm
from crm.admin_utils import FastChangeListMixin, ReadOnlyAdminMixin
from crm.models import ConsentChange, Customer, CustomerAccess, Interaction, Order, OrderLine, Product, Tag

TIMELINE_LIMIT = 50
HISTORY_LIMIT = 20
ACCESS_LIMIT = 10
TIMELINE_KIND_LABELS = {
    "interaction": _("Interactions"),
    "order": _("Orders"),
    "consent": _("Consent"),
}
CUSTOMER_SEARCH_HELP = _(
    "Email, phone number, external reference, order number, or the start of a name (\"sar\", \"sara ahm\")."
)


def _adopt(target, saved) -> None:
    """Make the admin's unsaved instance the row a service just created, so the admin
    goes on (change message, redirect) with the saved object."""
    for name, value in vars(saved).items():
        if name != "_state":
            setattr(target, name, value)
    target._state.adding = False
    target._state.db = saved._state.db


def _money(value, currency: str = "") -> str:
    amount = number_format(value, 2, force_grouping=True)
    return f"{amount} {currency}".strip()


class CustomerSearchMixin:
    """Search a list of rows that belong to a customer with the customer search."""

    def get_search_results(self, request, queryset, search_term):
        if not search_term.strip():
            return queryset, False
        return queryset.filter(customer__in=Customer.objects.search(search_term).values("pk")), False


# Customers -----------------------------------------------------------------------------


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
        "public_id", "lifecycle_badge", "orders_count", "total_spent_display", "first_order_at", "last_order_at",
        "created_at", "updated_at",
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
            "lifecycle_badge", "orders_count", "total_spent_display", "first_order_at", "last_order_at",
        )}),
        (_("Record"), {"fields": ("public_id", "created_at", "updated_at"), "classes": ("collapse",)}),
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
        return _money(obj.total_spent)

    # Newest first, customers who never ordered last (reversed: oldest first, after those
    # who never ordered). An index of migration 0004 serves both directions.
    @admin.display(description=_("last order"), ordering=F("last_order_at").desc(nulls_last=True), empty_value="-")
    def last_order_at_display(self, obj):
        return obj.last_order_at

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
            _adopt(obj, created)
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
            "timeline": [{"entry": entry, "label": _kind_label(entry.kind)} for entry in entries],
            "timeline_kinds": [
                {"name": kind, "label": _kind_label(kind), "url": _with_param(request, "timeline", kind),
                 "selected": kind == selected}
                for kind in kinds
            ],
            "timeline_all_url": _with_param(request, "timeline", None),
            "timeline_kind": selected,
            "timeline_limit": TIMELINE_LIMIT,
            "customer_panels": customer_panels(request, customer),
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


def _kind_label(kind: str):
    return TIMELINE_KIND_LABELS.get(kind) or kind.replace("_", " ").capitalize()


def _with_param(request, name: str, value: str | None) -> str:
    params = request.GET.copy()
    params.pop(name, None)
    if value:
        params[name] = value
    query = params.urlencode()
    return f"?{query}#crm-timeline" if query else "?#crm-timeline"


# Interactions --------------------------------------------------------------------------


@admin.register(Interaction)
class InteractionAdmin(CustomerSearchMixin, FastChangeListMixin, admin.ModelAdmin):
    list_display = ("customer", "subject", "channel", "status", "staff", "follow_up_on", "occurred_at")
    list_display_links = ("subject",)
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
            _adopt(obj, created)
            return
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
            ngettext("%(count)d interaction resolved.", "%(count)d interactions resolved.", resolved) % {"count": resolved},
            messages.SUCCESS,
        )


# Orders --------------------------------------------------------------------------------


class OrderLineInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = OrderLine
    fields = ("sku", "product_name", "category", "quantity", "unit_price", "line_total")
    readonly_fields = fields
    extra = 0
    can_delete = False


    @admin.display(description=_("line total"))
    def line_total(self, line):
        return _money(line.line_total)


@admin.register(Order)
class OrderAdmin(ReadOnlyAdminMixin, CsvImportAdminMixin, FastChangeListMixin, admin.ModelAdmin):
    import_kind = "orders"
    """Orders arrive through imports and the API (crm.services.order_create), so the
    admin neither adds, edits nor deletes them; it cancels and refunds them through the
    services, which keep the customer's figures right."""

    change_form_template = "admin/crm/order/change_form.html"
    list_display = (
        "order_number", "customer_link", "placed_at", "status", "channel", "total_display", "refunded_display", "counted",
    )
    list_select_related = ("customer",)
    list_filter = ("status", "channel")
    # placed_at and order_number have indexes; sorting 10,000,000 rows by total has none.
    sortable_by = ("order_number", "placed_at")
    search_fields = ("=order_number",)  # see get_search_results
    search_help_text = _("Exact order number.")
    raw_id_fields = ("customer",)
    readonly_fields = (
        "public_id", "customer", "source", "order_number", "placed_at", "status", "channel", "currency", "total",
        "discount", "refunded_amount", "net_total", "is_counted", "fulfilled_at", "created_at", "updated_at",
    )
    fields = readonly_fields
    inlines = (OrderLineInline,)
    actions = ("cancel_orders", "refund_orders")

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not term:
            return queryset, False
        # Exact, so it uses the order_number index (iexact would not).
        return queryset.filter(order_number=term), False


    def has_cancel_permission(self, request):
        return request.user.has_perm("crm.change_order")

    has_refund_permission = has_cancel_permission

    @admin.display(description=_("customer"))
    def customer_link(self, order):
        url = reverse("admin:crm_customer_change", args=[order.customer_id])
        return format_html('<a href="{}">{}</a>', url, order.customer)

    @admin.display(description=_("total"))
    def total_display(self, order):
        return _money(order.total, order.currency)

    @admin.display(description=_("refunded"))
    def refunded_display(self, order):
        return _money(order.refunded_amount, order.currency) if order.refunded_amount else "-"

    @admin.display(description=_("counted"), boolean=True)
    def counted(self, order):
        return order.is_counted

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path("<path:object_id>/refund/", self.admin_site.admin_view(self.refund_view), name="%s_%s_refund" % info),
            *super().get_urls(),
        ]

    @admin.action(description=_("Cancel selected orders"), permissions=("cancel",))
    def cancel_orders(self, request, queryset):
        done = self._apply(request, queryset, lambda order: services.order_cancel(order=order, by=request.user))
        if done:
            self.message_user(
                request, ngettext("%(count)d order cancelled.", "%(count)d orders cancelled.", done) % {"count": done},
                messages.SUCCESS,
            )

    @admin.action(description=_("Refund selected orders…"), permissions=("refund",))
    def refund_orders(self, request, queryset):
        orders = list(queryset.select_related("customer"))
        form = OrderRefundForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            amount = form.cleaned_data["amount"]
            done = self._apply(
                request, orders,
                lambda order: services.order_refund(
                    order=order, amount=amount if amount is not None else order.total - order.refunded_amount,
                    by=request.user,
                ),
            )
            if done:
                self.message_user(
                    request, ngettext("%(count)d order refunded.", "%(count)d orders refunded.", done) % {"count": done},
                    messages.SUCCESS,
                )
            if len(orders) == 1:
                return HttpResponseRedirect(reverse("admin:crm_order_change", args=[orders[0].pk]))
            return None
        return self._refund_page(request, orders, form)

    def refund_view(self, request, object_id):
        if not self.has_refund_permission(request):
            raise PermissionDenied
        order = self.get_object(request, unquote(object_id))
        if order is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        return self._refund_page(request, [order], OrderRefundForm())

    def _refund_page(self, request, orders, form):
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Refund orders"),
            "opts": self.opts,
            "orders": [
                {"order": order, "remaining": _money(order.total - order.refunded_amount, order.currency)} for order in orders
            ],
            "form": form,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            "changelist_url": reverse("admin:crm_order_changelist"),
        }
        return TemplateResponse(request, "admin/crm/order/refund.html", context)

    def _apply(self, request, orders, change) -> int:
        """Run a service on each order; a refused change is a message, not an error page."""
        done = 0
        for order in orders:
            try:
                change(order)
            except ValidationError as error:
                self.message_user(
                    request, f"{order.order_number}: {' '.join(error.messages)}", messages.ERROR,
                )
            else:
                done += 1
        return done

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None and self.has_refund_permission(request):
            context["refund_url"] = reverse("admin:crm_order_refund", args=[obj.pk])
        return super().render_change_form(request, context, add=add, change=change, form_url=form_url, obj=obj)


@admin.register(OrderLine)
class OrderLineAdmin(ReadOnlyAdminMixin, FastChangeListMixin, admin.ModelAdmin):
    list_display = ("order", "sku", "product_name", "category", "quantity", "unit_price")
    list_select_related = ("order",)
    sortable_by = ()
    search_fields = ("=order__order_number",)  # see get_search_results
    search_help_text = _("Exact order number.")
    raw_id_fields = ("order", "product")
    fields = ("order", "product", "sku", "product_name", "category", "quantity", "unit_price")
    readonly_fields = fields

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not term:
            return queryset, False
        return queryset.filter(order__order_number=term), False



# Small tables --------------------------------------------------------------------------


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ("sku", "name", "category", "replenishment_days")
    list_filter = ("category",)
    search_fields = ("=sku", "name")


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ("name",)
    search_fields = ("name",)


@admin.register(ConsentChange)
class ConsentChangeAdmin(ReadOnlyAdminMixin, CustomerSearchMixin, FastChangeListMixin, admin.ModelAdmin):
    """The consent history is written by crm.services.consent_set only; here it is read."""

    list_display = ("customer", "channel", "granted", "source", "changed_at", "changed_by")
    list_select_related = ("customer", "changed_by")
    list_filter = ("channel", "granted")
    sortable_by = ()
    search_fields = ("customer__email",)  # see CustomerSearchMixin
    search_help_text = _("Find a customer's consent history by the customer's email, phone, reference, order number or name.")
    raw_id_fields = ("customer",)

