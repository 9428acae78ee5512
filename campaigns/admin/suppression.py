"""The suppression list and inbound SMS in the Django admin."""

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from campaigns import selectors, services
from campaigns.models import InboundSms, Suppression
from crm.admin.utils import ReadOnlyAdminMixin


class SuppressionAddForm(forms.ModelForm):
    address = forms.CharField(label=_("Email or phone number"), max_length=254,
                              help_text=_("Only a hash of it is stored."))

    class Meta:
        model = Suppression
        fields = ("reason", "note")


@admin.register(Suppression)
class SuppressionAdmin(admin.ModelAdmin):
    list_display = ("kind", "short_hash", "reason", "note", "created_at", "created_by")
    list_filter = ("kind", "reason")
    list_select_related = ("created_by",)
    search_fields = ("=value_hash",)
    readonly_fields = ("kind", "value_hash", "reason", "note", "created_at", "created_by")

    @admin.display(description=_("hash"))
    def short_hash(self, suppression):
        return f"{suppression.value_hash[:16]}…"

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = SuppressionAddForm
        return super().get_form(request, obj, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else self.readonly_fields

    def get_fields(self, request, obj=None):
        return ("address", "reason", "note") if obj is None else self.readonly_fields

    def get_search_results(self, request, queryset, search_term):
        # Search by the address itself: hash what was typed.
        if search_term and ("@" in search_term or search_term.strip().lstrip("+").isdigit()):
            kind = Suppression.Kind.EMAIL if "@" in search_term else Suppression.Kind.PHONE
            return queryset.filter(value_hash=selectors.suppression_hash(kind, search_term)), False
        return super().get_search_results(request, queryset, search_term)

    def save_model(self, request, obj, form, change):
        address = form.cleaned_data["address"]
        services.suppression_add(
            email=address if "@" in address else None, phone=None if "@" in address else address,
            reason=form.cleaned_data["reason"], note=form.cleaned_data.get("note", ""), by=request.user,
        )
        kind = Suppression.Kind.EMAIL if "@" in address else Suppression.Kind.PHONE
        saved = Suppression.objects.get(value_hash=selectors.suppression_hash(kind, address))
        obj.pk = saved.pk

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(InboundSms)
class InboundSmsAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("received_at", "from_number", "text", "is_stop", "customers_unsubscribed")
    list_filter = ("is_stop",)
    search_fields = ("=from_number",)
