"""Every write to customers, orders and interactions goes through these functions.

Admin actions, API views, imports, tasks and commands all call them, so the derived
order figures, consent history and the events other apps listen to stay correct
whatever the entry point: customers.py (customers, consent, interactions), orders.py (a
batch of new orders, status changes, refunds) and order_input.py (the one check of an
order's input, which the API and the importer use too).
"""

from crm.services.customers import (
    CONSENT_FIELDS, CUSTOMER_FIELDS, consent_set, customer_create, customer_update, customers_add_new_orders,
    customers_recount_grouped, customers_refresh_order_stats, interaction_log, interaction_resolve, normalize_email, tags_ensure,
)
from crm.services.order_input import LineInput, OrderInput
from crm.services.orders import (
    OrdersInvalid, order_cancel, order_create, order_refund, order_set_status, orders_announce, orders_check,
    orders_create, products_ensure,
)

__all__ = [
    "CONSENT_FIELDS", "CUSTOMER_FIELDS", "LineInput", "OrderInput", "OrdersInvalid", "consent_set", "customer_create",
    "customer_update", "customers_add_new_orders", "customers_recount_grouped", "customers_refresh_order_stats",
    "interaction_log",
    "interaction_resolve", "normalize_email",
    "order_cancel", "order_create", "order_refund", "order_set_status", "orders_announce", "orders_check",
    "orders_create", "products_ensure", "tags_ensure",
]
