"""automation_lift ID --start YYYY-MM-DD --end YYYY-MM-DD [--window-days N] [--json]"""

import json
import uuid

from django.core.management import BaseCommand, CommandError

from campaigns.management.commands._lift_cli import write_lift
from campaigns.models import Automation
from campaigns.selectors.lift import WINDOW_DAYS, PeriodError, automation_lift, period_clean, window_days_clean
from core.replicas import replica_reads


class Command(BaseCommand):
    help = ("What a marketing automation brought beyond its holdout: its entries in [start, end), each measured from "
            "its own send date, as the automation's report in the admin.")

    def add_arguments(self, parser):
        parser.add_argument("automation_id", metavar="ID", help="The automation's id (as in its admin address) or public id.")
        parser.add_argument("--start", required=True, help="First day of the entries, YYYY-MM-DD.")
        parser.add_argument("--end", required=True, help="The day after the last day of the entries, YYYY-MM-DD.")
        parser.add_argument("--window-days", default=WINDOW_DAYS,
                            help=f"Outcome window after each entry, in days, 1 to 3650 (default {WINDOW_DAYS}).")
        parser.add_argument("--json", action="store_true", help="Print one JSON object.")

    @replica_reads()
    def handle(self, *args, automation_id, start, end, window_days, **options):
        try:
            window_days = window_days_clean(window_days)
        except ValueError as error:
            raise CommandError(f"--window-days: {error}") from None
        try:
            period_start, period_end = period_clean(start, end)
        except PeriodError as error:
            raise CommandError(f"--{error.field}: {error}") from None
        automation = _automation(str(automation_id))
        if automation is None:
            raise CommandError(f"No automation with the id {automation_id!r}.")
        lift = automation_lift(automation, start=period_start, end=period_end, window_days=window_days)
        if options["json"]:
            self.stdout.write(json.dumps({"automation": automation.pk, "start": period_start.date().isoformat(),
                                          "end": period_end.date().isoformat(), **lift.summary()}))
            return
        write_lift(self.stdout, [("Automation", f"{automation.pk} {automation.name}"),
                                 ("Entries", f"{period_start.date()} to {period_end.date()} (end excluded)")], lift)


def _automation(reference: str) -> Automation | None:
    if reference.isdigit():
        return Automation.objects.filter(pk=int(reference)).first()
    try:
        return Automation.objects.filter(public_id=uuid.UUID(reference)).first()
    except ValueError:
        return None
