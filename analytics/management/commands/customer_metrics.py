"""customer_metrics --segment SLUG|all [--start YYYY-MM-DD] [--end YYYY-MM-DD] [--json]"""

import json

from django.core.management import BaseCommand

from analytics import metrics
from analytics.management.commands._analytics_cli import customers, period, rate
from core.replicas import replica_reads


class Command(BaseCommand):
    help = ("Repeat purchase rate, average order value, purchase frequency, historic CLV and revenue shares "
            "of a segment (or all customers), over all time or the period [start, end).")

    def add_arguments(self, parser):
        parser.add_argument("--segment", required=True, help="A segment slug, or 'all' for every customer.")
        parser.add_argument("--start", help="Count the orders placed from this day, YYYY-MM-DD.")
        parser.add_argument("--end", help="Count the orders placed before this day, YYYY-MM-DD.")
        parser.add_argument("--json", action="store_true", help="Print one JSON object.")

    @replica_reads()
    def handle(self, *args, **options):
        chosen = period(options["start"], options["end"], required=False)
        _segment, queryset = customers(options["segment"])
        data = metrics.value_metrics(queryset, start=chosen.start, end=chosen.end).as_dict()
        if options["json"]:
            self.stdout.write(json.dumps(data))
            return
        rows = [
            ("Customers", data["customers"]),
            ("Buyers", data["buyers"]),
            ("Repeat purchase rate", rate(data["repeat_purchase_rate"])),
            ("Average order value", data["average_order_value"] or "–"),
            ("Purchase frequency", data["purchase_frequency"] if data["purchase_frequency"] is not None else "–"),
            ("Historic CLV (mean)", data["clv_mean"] or "–"),
            ("Historic CLV (median)", data["clv_median"] or "–"),
            ("Repeat revenue share", rate(data["repeat_revenue_share"])),
            ("Top-20% revenue share", rate(data["top20_revenue_share"])),
        ]
        for label, value in rows:
            self.stdout.write(f"{label:<22} {value}")
