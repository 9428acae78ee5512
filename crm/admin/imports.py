"""The CSV import page of the admin, for customers and orders.

Add `CsvImportAdminMixin` to a ModelAdmin and set `import_kind`; the change list gets an
"Import CSV" button and `<changelist>/import/` a form. The page calls the same service as
the management commands (crm.importing), with the same all-or-nothing rule.
"""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from crm.importing import CUSTOMER_COLUMNS, IMPORTERS, LINE_COLUMNS, ORDER_COLUMNS, ImportFailed

# A page with thousands of messages helps nobody; the command line shows them all.
MAX_ERRORS_SHOWN = 200

_COLUMNS = {
    "customers": (CUSTOMER_COLUMNS, _(
        "Any subset of the columns; each row needs an external_ref, an email or a phone. Rows update the customer "
        "with the same external_ref, else email, else phone, or create one. Empty cells leave values as they are; "
        "tags are separated by |."
    )),
    "orders": (ORDER_COLUMNS + LINE_COLUMNS, _(
        "order_number, customer_ref, placed_at and total are required; one row per order line, rows with the same "
        "order_number are one order. customer_ref is a customer's external_ref, email or phone. placed_at is an "
        "ISO 8601 date or datetime. Orders that exist already are skipped."
    )),
}


class CsvImportForm(forms.Form):
    file = forms.FileField(
        label=_("CSV file"), help_text=_("UTF-8, with or without BOM; the first line names the columns."),
    )


class CsvImportAdminMixin:
    import_kind: str = ""  # "customers" or "orders"
    change_list_template = "admin/crm/change_list_import.html"
    import_template = "admin/crm/import_form.html"

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path("import/", self.admin_site.admin_view(self.import_view), name="%s_%s_import" % info),
            *super().get_urls(),
        ]

    def has_import_permission(self, request) -> bool:
        return request.user.has_perm(f"{self.opts.app_label}.import_{self.import_kind}")

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "has_import_permission": self.has_import_permission(request)}
        return super().changelist_view(request, extra_context=extra_context)

    def import_view(self, request):
        if not self.has_import_permission(request):
            raise PermissionDenied
        request.current_app = self.admin_site.name
        form = CsvImportForm(request.POST, request.FILES) if request.method == "POST" else CsvImportForm()
        if form.is_bound and form.is_valid():
            try:
                result = IMPORTERS[self.import_kind](form.cleaned_data["file"], by=request.user)
            except ImportFailed as failure:
                self._report_failure(request, failure.errors)
            else:
                messages.success(request, gettext("The file was imported: %(summary)s") % {"summary": result.summary()})
                info = self.opts.app_label, self.opts.model_name
                return HttpResponseRedirect(reverse("admin:%s_%s_changelist" % info, current_app=self.admin_site.name))
        columns, help_text = _COLUMNS[self.import_kind]
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": gettext("Import %(name)s from a CSV file") % {"name": self.opts.verbose_name_plural},
            "form": form,
            "columns": columns,
            "columns_help": help_text,
        }
        return TemplateResponse(request, self.import_template, context)

    def _report_failure(self, request, errors: list[str]) -> None:
        messages.error(request, ngettext(
            "Nothing was imported: %(count)d row is wrong. Correct it and upload the file again.",
            "Nothing was imported: %(count)d rows are wrong. Correct them and upload the file again.",
            len(errors),
        ) % {"count": len(errors)})
        for message in errors[:MAX_ERRORS_SHOWN]:
            messages.error(request, message)
        if len(errors) > MAX_ERRORS_SHOWN:
            messages.error(request, gettext("... and %(count)d more; the import_%(kind)s command lists them all.") % {
                "count": len(errors) - MAX_ERRORS_SHOWN, "kind": self.import_kind})
