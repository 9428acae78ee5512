from crm.importing.command import ImportCommand


class Command(ImportCommand):
    help = (
        "Create or update customers from a CSV file, all or nothing. Columns (any subset): external_ref, "
        "first_name, last_name, email, phone, birth_date, city, country, source, acquired_at, email_opt_in, "
        "sms_opt_in, tags (separated by |). Rows match customers by external_ref, then email, then phone. "
        "Exits with status 1 and prints `line N: reason` for every bad row."
    )
    kind = "customers"
