"""Credit the purchase points that orders written before imports earned points never got."""

import json
import sys
from datetime import datetime, time

from django.core.management import CommandError
from django.utils import timezone

from club.services.purchases import points_backfill
from core.commands import AuditedCommand


class Command(AuditedCommand):
    help = ("Credit the purchase points counted orders of active members (placed on or after joining) never earned, "
            "through the same path new orders take. Running it twice credits once.")

    def add_arguments(self, parser):
        parser.add_argument("--since", help="only orders placed on or after this date (YYYY-MM-DD)")
        parser.add_argument("--dry-run", action="store_true", help="print what would be credited; change nothing")
        parser.add_argument("--json", action="store_true", dest="as_json", help="print the figures as JSON")

    def handle(self, *args, since=None, dry_run=False, as_json=False, **options):
        start = None
        if since:
            try:
                start = timezone.make_aware(datetime.combine(datetime.strptime(since, "%Y-%m-%d").date(), time.min))
            except ValueError:
                raise CommandError(f'--since "{since}" is not a date (YYYY-MM-DD).', returncode=2) from None
        bar = self._progress_bar()

        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.update(done - bar.n)

        try:
            figures = points_backfill(since=start, dry_run=dry_run, progress=progress if bar is not None else None)
        finally:
            if bar is not None:
                bar.close()
        if as_json:
            self.stdout.write(json.dumps({**figures, "dry_run": dry_run}))
            return
        verb = "Would credit" if dry_run else "Credited"
        self.stdout.write(self.style.SUCCESS(
            f"{verb} {figures['points']} points on {figures['orders_credited']} order(s) to {figures['members']} member(s); "
            f"{figures['orders_examined']} order(s) without purchase points examined."
        ))

    def _progress_bar(self):
        """A tqdm bar over the orders, only when a person watches the output."""
        if not self.stdout.isatty():
            return None
        from tqdm import tqdm

        return tqdm(unit="orders", file=getattr(self.stdout, "_out", sys.stdout), leave=False, desc="crediting")

