"""Evaluate the recommender honestly: train before a cutoff, check what customers bought next."""

import json
from datetime import datetime

from django.core.management import CommandError
from django.core.management.base import BaseCommand

from crm.recommend import recommendations_evaluate


class Command(BaseCommand):
    help = (
        "Train the recommendations on counted orders before --cutoff (nothing stored is changed) and score each "
        "customer's top k against the products they bought in [cutoff, cutoff + days). Customers: those with a counted "
        "order before the cutoff and one in the window. Hit rate: share of them with at least one hit in their top k. "
        "Precision: hits / k, averaged. Recall: hits / distinct products bought in the window, averaged. Baseline: "
        "the k most popular products before the cutoff that the customer had not bought, scored the same way."
    )

    def add_arguments(self, parser):
        parser.add_argument("--cutoff", required=True, help="first day of the test window (YYYY-MM-DD)")
        parser.add_argument("--k", type=int, default=5, help="picks scored per customer (default 5)")
        parser.add_argument("--days", type=int, default=90, help="length of the test window in days (default 90)")
        parser.add_argument("--json", action="store_true", dest="as_json", help="print one JSON object")

    def handle(self, *args, cutoff, k, days, as_json=False, **options):
        try:
            cutoff_date = datetime.strptime(cutoff, "%Y-%m-%d").date()
        except ValueError:
            raise CommandError(f'--cutoff "{cutoff}" is not a date (YYYY-MM-DD).', returncode=2) from None
        if k < 1 or k > 10:
            raise CommandError("--k must be between 1 and 10.", returncode=2)
        if days < 1:
            raise CommandError("--days must be at least 1.", returncode=2)
        figures = recommendations_evaluate(cutoff=cutoff_date, k=k, days=days, detail=not as_json)
        if as_json:
            self.stdout.write(json.dumps(figures))
            return

        def percent(value):
            return "n/a" if value is None else f"{value * 100:.1f}%"

        self.stdout.write(f"Cutoff {figures['cutoff']}, top {k}, {days} days: {figures['customers']} customer(s)")
        self.stdout.write(f"{'':12}{'hit rate':>10}{'precision':>11}{'recall':>9}")
        for label, prefix in (("recommender", ""), ("popularity", "baseline_")):
            self.stdout.write(
                f"{label:12}{percent(figures[prefix + 'hit_rate']):>10}{percent(figures[prefix + 'precision']):>11}"
                f"{percent(figures[prefix + 'recall']):>9}"
            )
        hits = ", ".join(f"{reason} {count}" for reason, count in figures["hits_by_reason"].items()) or "none"
        self.stdout.write(f"Hits by reason: {hits}; hit rate without products due again: "
                          f"{percent(figures['hit_rate_without_due'])}")
