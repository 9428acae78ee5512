"""Customer admin actions for privacy: download a customer's data, erase a customer."""

import json

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from core.templatetags.localized import local_digits
from crm.access import access_log
from crm.models import CustomerAccess, ErasureEvent
from crm.privacy import customer_erase, customer_export


class CustomerPrivacyAdminMixin:
    actions = ("export_customer_data", "erase_customers")

    def has_erase_permission(self, request) -> bool:
        return request.user.is_active and request.user.has_perm("crm.erase_customer")

    @admin.action(description=_("Download the selected customers' data (JSON)"), permissions=["change"])
    def export_customer_data(self, request, queryset):
        customers = list(queryset)
        for customer in customers:
            access_log(customer=customer, action=CustomerAccess.Action.EXPORTED, by=request.user, source="admin")
        if len(customers) == 1:
            document = customer_export(customers[0])
            filename = f"customer-{customers[0].public_id}.json"
        else:
            document = [customer_export(customer) for customer in customers]
            filename = "customers-export.json"
        response = HttpResponse(json.dumps(document, ensure_ascii=False, indent=2), content_type="application/json")
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        response["Cache-Control"] = "no-store"
        return response

    @admin.action(description=_("Erase the selected customers (anonymise, cannot be undone)"), permissions=["erase"])
    def erase_customers(self, request, queryset):
        already = set(ErasureEvent.objects.filter(customer__in=queryset).values_list("customer_id", flat=True))
        customers = [customer for customer in queryset if customer.pk not in already]
        if request.POST.get("confirm") == "yes":
            erased = 0
            for customer in customers:
                try:
                    customer_erase(customer=customer, by=request.user)
                except ValidationError as error:
                    self.message_user(request, " ".join(error.messages), messages.ERROR)
                    continue
                erased += 1
            self.message_user(
                request,
                local_digits(ngettext("%(count)d customer erased.", "%(count)d customers erased.", erased) % {"count": erased}),
                messages.SUCCESS,
            )
            return None
        return TemplateResponse(request, "admin/crm/customer/erase_confirmation.html", {
            **self.admin_site.each_context(request),
            "title": _("Erase customers"),
            "opts": self.model._meta,
            "customers": customers,
            "already_erased": len(already),
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "changelist_url": reverse("admin:crm_customer_changelist"),
        })
