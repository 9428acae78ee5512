"""club_liability [--as-of YYYY-MM-DD] [--json] [--store]"""

import json

from django.core.exceptions import ValidationError
from django.core.management import CommandError

from club.selectors.liability import club_liability, parse_as_of
from club.services import liability_snapshot_store
from core.commands import AuditedCommand
from core.replicas import replica_reads


class Command(AuditedCommand):
    help = ("The club's points liability as of a day (today by default): outstanding (available) and pending points, "
            "points expiring in 30, 60 and 90 days, their value at CLUB_POINT_VALUE, and the redemption and breakage "
            "rates of the trailing 12 months, in total and per tier.")

    def add_arguments(self, parser):
        parser.add_argument("--as-of", dest="as_of", help="The day, YYYY-MM-DD (its end); default today.")
        parser.add_argument("--json", action="store_true", help="Print one JSON object.")
        parser.add_argument("--store", action="store_true",
                            help="Also store it as the day's snapshot the admin page reads (replacing the day's).")

    def handle(self, *args, **options):
        try:
            as_of = parse_as_of(options["as_of"])
        except ValidationError as error:
            raise CommandError(" ".join(f"--as-of: {message}" for message in error.message_dict["as_of"])) from None
        if options["store"]:
            data = liability_snapshot_store(day=as_of).as_dict()  # from the ledger, on the primary
        else:
            with replica_reads():
                data = club_liability(as_of=as_of).as_dict()
        if options["json"]:
            self.stdout.write(json.dumps(data))
            return
        self.stdout.write(f"Points liability at the end of {data['as_of']}")
        columns = [("available", "outstanding_points"), ("pending", "pending_points"), ("exp.30d", "expiring_30d"),
                   ("exp.60d", "expiring_60d"), ("exp.90d", "expiring_90d"), ("value", "liability_value"),
                   ("redeemed", "redemption_rate"), ("breakage", "breakage_rate")]
        rows = [(row["tier"] or "(no tier)", row) for row in data["tiers"]] + [("All members", data)]
        width = max(len(name) for name, _row in rows)
        self.stdout.write(f"{'tier':<{width}} " + " ".join(f"{title:>12}" for title, _key in columns))
        for name, row in rows:
            self.stdout.write(f"{name:<{width}} " + " ".join(f"{_cell(key, row[key]):>12}" for _title, key in columns))
        self.stdout.write("Rates over the trailing 12 months: redeemed / earned and expired / earned (earned net of reversals).")


def _cell(key: str, value) -> str:
    if key.endswith("_rate"):
        return "–" if value is None else f"{100 * value:.1f}%"
    return str(value)
