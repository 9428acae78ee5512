"""cohorts [--from YYYY-MM] [--months N] [--segment SLUG|all] [--json]"""

import json

from django.core.management import BaseCommand, CommandError

from analytics import metrics
from analytics.management.commands._analytics_cli import customers, parse_month
from core.replicas import replica_reads


class Command(BaseCommand):
    help = ("Cohort retention: customers grouped by the month of their first counted order; cell (cohort, k) is the "
            "share of the cohort with a counted order k months later (k = 0 is the first month).")

    def add_arguments(self, parser):
        parser.add_argument("--from", dest="first", help="First cohort month, YYYY-MM (default: --months months ago).")
        parser.add_argument("--months", type=int, default=12, help="Cohorts and months after, 1 to 24 (default 12).")
        parser.add_argument("--segment", default="all", help="A segment slug, or 'all' (the default).")
        parser.add_argument("--json", action="store_true", help="Print one JSON object.")

    @replica_reads()
    def handle(self, *args, **options):
        months = options["months"]
        if not 1 <= months <= 24:
            raise CommandError("--months must be between 1 and 24.")
        first = parse_month(options["first"], "--from") if options["first"] else None
        _segment, queryset = customers(options["segment"])
        rows = metrics.cohort_matrix(queryset, first=first, months=months)
        data = {
            "segment": options["segment"],
            "from": rows[0].cohort.strftime("%Y-%m") if rows else (first.strftime("%Y-%m") if first else None),
            "months": months,
            "cohorts": [{"cohort": row.cohort.strftime("%Y-%m"), "size": row.size, "retention": row.retention} for row in rows],
        }
        if options["json"]:
            self.stdout.write(json.dumps(data))
            return
        self.stdout.write(f"{'cohort':<8} {'size':>7} " + " ".join(f"{'M' + str(k):>6}" for k in range(months)))
        for row in data["cohorts"]:
            cells = " ".join(f"{'' if value is None else f'{100 * value:.0f}%':>6}" for value in row["retention"])
            self.stdout.write(f"{row['cohort']:<8} {row['size']:>7} {cells}")
