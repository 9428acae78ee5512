"""retention --segment SLUG|all --start YYYY-MM-DD --end YYYY-MM-DD [--window DAYS] [--json]"""

import json

from django.core.management import BaseCommand

from analytics import metrics
from analytics.management.commands._analytics_cli import customers, period, rate
from core.replicas import replica_reads


class Command(BaseCommand):
    help = "Retention and churn of a segment (or all customers) for the period [start, end)."

    def add_arguments(self, parser):
        parser.add_argument("--segment", required=True, help="A segment slug, or 'all' for every customer.")
        parser.add_argument("--start", required=True, help="First day of the period, YYYY-MM-DD.")
        parser.add_argument("--end", required=True, help="The day after the period, YYYY-MM-DD (exclusive).")
        parser.add_argument("--window", type=int, help="Activity window W in days, 1 to 3650 (default CRM_ACTIVITY_WINDOW_DAYS).")
        parser.add_argument("--json", action="store_true", help="Print one JSON object.")

    @replica_reads()
    def handle(self, *args, **options):
        chosen = period(options["start"], options["end"], required=True, window=options["window"])
        _segment, queryset = customers(options["segment"])
        result = metrics.retention(queryset, start=chosen.start, end=chosen.end, window_days=chosen.window_days)
        data = {"segment": options["segment"], **result.as_dict()}
        if options["json"]:
            self.stdout.write(json.dumps(data))
            return
        rows = [
            ("Segment", data["segment"]),
            ("Period", f"{data['start']} to {data['end']} (end excluded)"),
            ("Activity window", f"{data['window_days']} days"),
            ("Active at start (S)", data["customers_at_start"]),
            ("Retained (R)", data["retained"]),
            ("Churned (S - R)", data["churned"]),
            ("New customers (N)", data["new_customers"]),
            ("Active at end (E)", data["customers_at_end"]),
            ("Retention rate R/S", rate(data["retention_rate"])),
            ("Churn rate (S-R)/S", rate(data["churn_rate"])),
            ("Classic CRR (E-N)/S", rate(data["crr_classic"])),
        ]
        for label, value in rows:
            self.stdout.write(f"{label:<22} {value}")
