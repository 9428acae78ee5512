"""predict_churn [--calibration-end YYYY-MM-DD] [--unit days|weeks] [--json]"""

import json

from django.core.management import CommandError
from django.utils import timezone

from analytics import metrics
from analytics.management.commands._analytics_cli import parse_day
from analytics.services import scores
from core.commands import AuditedCommand


class Command(AuditedCommand):
    help = ("Fit BG/NBD and Gamma-Gamma on the counted orders placed before the calibration end (default now) and "
            "store every customer's P(alive), expected purchases in 90 days and predictive CLV.")

    def add_arguments(self, parser):
        parser.add_argument("--calibration-end", help="Fit on orders placed before this day, YYYY-MM-DD (default: now).")
        parser.add_argument("--unit", choices=["days", "weeks"], help="Time unit of the model (default: the setting).")
        parser.add_argument("--json", action="store_true", help="Print one JSON object.")

    def handle(self, *args, **options):
        from analytics.predictions.model import FitError

        end = options["calibration_end"]
        calibration_end = metrics.aware(parse_day(end, "--calibration-end")) if end else None
        if calibration_end is not None and calibration_end > timezone.now():
            raise CommandError(f"--calibration-end {end} is in the future.")
        try:
            result = scores.predictions_refresh(calibration_end=calibration_end, unit=options["unit"])
        except FitError as error:
            raise CommandError(f"Cannot fit the model: {error}") from None
        data = result.as_dict()
        if options["json"]:
            self.stdout.write(json.dumps(data))
            return
        self.stdout.write(f"Customers scored: {data['customers']} (unit: {result.fit.unit}, {result.fit.seconds} s)")
        self.stdout.write("BG/NBD:      " + ", ".join(f"{key} = {value}" for key, value in data["bgnbd"].items()))
        if data["gamma_gamma"]:
            self.stdout.write("Gamma-Gamma: " + ", ".join(f"{key} = {value}" for key, value in data["gamma_gamma"].items()))
        else:
            self.stdout.write("Gamma-Gamma: not fitted (too few repeat customers); CLV left empty.")
