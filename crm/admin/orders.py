"""The orders admin: read orders and their lines, cancel and refund them through
crm.services, which keep the customer's figures right."""

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from core.links import order_links
from core.templatetags.localized import local_digits
from crm import services
from crm.admin.common import money
from crm.admin.forms import OrderRefundForm
from crm.admin.imports import CsvImportAdminMixin
from crm.admin.utils import FastChangeListMixin, ReadOnlyAdminMixin
from crm.models import Order, OrderLine


class OrderLineInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = OrderLine
    fields = ("sku", "product_name", "category", "quantity", "unit_price", "line_total")
    readonly_fields = fields
    extra = 0
    can_delete = False


    @admin.display(description=_("line total"))
    def line_total(self, line):
        return money(line.line_total)


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
        return money(order.total, order.currency)

    @admin.display(description=_("refunded"))
    def refunded_display(self, order):
        return money(order.refunded_amount, order.currency) if order.refunded_amount else "-"

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
                request, local_digits(ngettext("%(count)d order cancelled.", "%(count)d orders cancelled.", done) % {"count": done}),
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
                    request, local_digits(ngettext("%(count)d order refunded.", "%(count)d orders refunded.", done) % {"count": done}),
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
                {"order": order, "remaining": money(order.total - order.refunded_amount, order.currency)} for order in orders
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
        if obj is not None:
            context["links"] = order_links(obj)
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
