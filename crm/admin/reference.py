"""Small crm tables: products, tags, and the consent history (read-only here)."""

from django.contrib import admin
from django.db import models
from django.utils.translation import gettext_lazy as _

from crm.admin.common import CustomerSearchMixin
from crm.admin.utils import FastChangeListMixin, ReadOnlyAdminMixin
from crm.models import ConsentChange, Product, Tag


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ("sku", "name", "category", "price", "is_active", "replenishment_days")
    list_filter = ("is_active", "category")
    search_fields = ("=sku", "name")
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}  # a page typed without a scheme is https


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
