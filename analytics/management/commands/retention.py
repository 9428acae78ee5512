"""retention --segment SLUG|all --start YYYY-MM-DD --end YYYY-MM-DD [--window DAYS] [--json]
retention --segments SLUG,SLUG,...|every --start YYYY-MM-DD --end YYYY-MM-DD [--window DAYS] --json"""

import json

from django.core.management import BaseCommand, CommandError

from analytics import metrics
from analytics.management.commands._analytics_cli import customers, period, rate
from analytics.selectors import ALL
from campaigns.models import Segment
from core.replicas import replica_reads

EVERY = "every"


class Command(BaseCommand):
    help = "Retention and churn of a segment (or all customers) for the period [start, end)."

    def add_arguments(self, parser):
        parser.add_argument("--segment", help="A segment slug, or 'all' for every customer.")
        parser.add_argument("--segments", help="Several segment slugs separated by commas, or 'every' for every segment: "
                                               "one JSON list with an object per segment, computed in one pass (--json).")
        parser.add_argument("--start", required=True, help="First day of the period, YYYY-MM-DD.")
        parser.add_argument("--end", required=True, help="The day after the period, YYYY-MM-DD (exclusive).")
        parser.add_argument("--window", type=int, help="Activity window W in days, 1 to 3650 (default CRM_ACTIVITY_WINDOW_DAYS).")
        parser.add_argument("--json", action="store_true", help="Print one JSON object (a list with --segments).")

    @replica_reads()
    def handle(self, *args, **options):
        if options["segment"] is None and options["segments"] is None:
            raise CommandError("Name the segment: --segment SLUG|all, or --segments SLUG,SLUG,...|every.")
        if options["segment"] is not None and options["segments"] is not None:
            raise CommandError("Give --segment or --segments, not both.")
        chosen = period(options["start"], options["end"], required=True, window=options["window"])
        if options["segments"] is not None:
            data = self._segments(options["segments"], chosen)
            if options["json"]:
                self.stdout.write(json.dumps(data))
                return
            self.stdout.write(f"{'Segment':<30} {'S':>9} {'R':>9} {'N':>9} {'E':>9} {'R/S':>7} {'(S-R)/S':>8}")
            for row in data:
                self.stdout.write(f"{row['segment']:<30} {row['customers_at_start']:>9} {row['retained']:>9} "
                                  f"{row['new_customers']:>9} {row['customers_at_end']:>9} "
                                  f"{rate(row['retention_rate']):>7} {rate(row['churn_rate']):>8}")
            return
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

    def _segments(self, value: str, chosen) -> list[dict]:
        """Every named segment (or every segment; 'all' among the slugs: every customer) in one pass
        over their materialized members, in the order named."""
        if value.strip() == EVERY:
            slugs = list(Segment.objects.order_by("slug").values_list("slug", flat=True))
        else:
            slugs = list(dict.fromkeys(slug.strip() for slug in value.split(",") if slug.strip()))
            if not slugs:
                raise CommandError("--segments: give segment slugs separated by commas, or 'every'.")
        found = {segment.slug: segment for segment in Segment.objects.filter(slug__in=slugs)}
        unknown = [slug for slug in slugs if slug not in found and slug != ALL]
        if unknown:
            raise CommandError(f"--segments: no segment with the slug {', '.join(map(repr, unknown))} "
                               f"(use 'all' for every customer).")
        results = metrics.retention_by_segment(found.values(), start=chosen.start, end=chosen.end,
                                               window_days=chosen.window_days, include_all=ALL in slugs)
        return [{"segment": slug, **results[found[slug].pk if slug != ALL else None].as_dict()} for slug in slugs]
