"""`import_orders`: a CSV of orders, one row per order line, imported all or nothing.

A package by step: `importer` reads, checks and stages the rows and runs the steps;
`rows` checks one row; `staging` holds the temporary tables and their writers;
`matching` matches customers and groups orders; `writing` inserts products, orders and
lines and refreshes the customers' figures.
"""

from crm.importing.orders.importer import import_orders
from crm.importing.orders.rows import LINE_COLUMNS, ORDER_COLUMNS, REQUIRED_COLUMNS

__all__ = ["LINE_COLUMNS", "ORDER_COLUMNS", "REQUIRED_COLUMNS", "import_orders"]
