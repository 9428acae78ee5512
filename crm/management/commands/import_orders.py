from crm.importing.command import ImportCommand


class Command(ImportCommand):
    help = (
        "Import orders from a CSV file, all or nothing. Columns: order_number, customer_ref, placed_at, total, "
        "and optionally status, channel, currency, sku, product_name, category, quantity, unit_price (one row "
        "per line; rows with the same order_number are one order). Orders that exist are skipped. "
        "Exits with status 1 and prints `line N: reason` for every bad row."
    )
    kind = "orders"
