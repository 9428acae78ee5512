"""The crm admin, for support staff first: find a customer, read their timeline, log
what happened, process a cancellation or a refund.

A package by page: customers, interactions, orders, reference (products, tags, consent
history); their filters, forms, the CSV import page, the privacy actions and the helpers
that keep big lists fast. Importing the package registers every ModelAdmin, the way
Django's admin autodiscovery expects of `crm.admin`.
"""

from crm.admin.customers import CustomerAdmin
from crm.admin.interactions import InteractionAdmin
from crm.admin.orders import OrderAdmin, OrderLineAdmin, OrderLineInline
from crm.admin.reference import ConsentChangeAdmin, ProductAdmin, TagAdmin

__all__ = [
    "ConsentChangeAdmin", "CustomerAdmin", "InteractionAdmin", "OrderAdmin", "OrderLineAdmin", "OrderLineInline",
    "ProductAdmin", "TagAdmin",
]
