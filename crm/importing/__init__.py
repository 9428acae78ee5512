"""CSV imports of customers and orders (the foundation issue).

One place for the logic: the management commands `import_customers` / `import_orders`
and the admin's import pages only call these functions. A file is imported all or
nothing: when any row is bad, nothing is written and ImportFailed lists every bad row
as `line N: reason` (the header is line 1).
"""

from crm.importing.common import ImportFailed, ImportResult
from crm.importing.customers import CUSTOMER_COLUMNS, import_customers
from crm.importing.orders import LINE_COLUMNS, ORDER_COLUMNS, import_orders

IMPORTERS = {"customers": import_customers, "orders": import_orders}

__all__ = [
    "CUSTOMER_COLUMNS", "IMPORTERS", "LINE_COLUMNS", "ORDER_COLUMNS", "ImportFailed", "ImportResult",
    "import_customers", "import_orders",
]
