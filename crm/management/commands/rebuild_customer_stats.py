from django.core.management import CommandError

from core.commands import AuditedCommand
from crm.selectors import customers_with_stale_stats
from crm.services import customers_refresh_order_stats


class Command(AuditedCommand):
    help = "Recompute every customer's derived order figures (counted orders, value, first/last order) from the orders."

    def add_arguments(self, parser):
        parser.add_argument("--check", action="store_true", help="Only count the customers whose figures are wrong; exit 1 if any.")

    def handle(self, *args, check, **options):
        stale = customers_with_stale_stats().count()
        if check:
            self.stdout.write(f"{stale} customers have figures that disagree with their orders.")
            if stale:
                raise CommandError("Run `manage.py rebuild_customer_stats` to repair them.", returncode=1)
            return
        updated = customers_refresh_order_stats()
        self.stdout.write(f"Recomputed {updated} customers; {stale} had wrong figures.")
