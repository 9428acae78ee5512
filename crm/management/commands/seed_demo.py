import sys
import time
from datetime import UTC, datetime
from functools import partial

from django.core.management import CommandError
from tqdm import tqdm

from core import demo
from core.commands import AuditedCommand


def non_negative_int(value: str) -> int:
    number = int(value)
    if number < 0:
        raise ValueError(value)
    return number


def iso_date(value: str) -> datetime:
    return datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=UTC)


class Command(AuditedCommand):
    help = (
        "Fill the database with realistic demo data: customers (English, Persian and Arabic names), two years of "
        "orders with seasonality, interactions, consent history, and whatever the other apps register. "
        "The same --seed gives the same data on the same day (dates end at today's midnight UTC); add --as-of "
        "for the same data on any day. Refuses to run when customers exist, unless --append is given."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--customers", type=non_negative_int, default=2000, help="How many customers to create (default 2000)."
        )
        parser.add_argument("--seed", type=int, default=1, help="Random seed (default 1).")
        parser.add_argument(
            "--append", action="store_true",
            help="Add to a database that already has customers; references, e-mails and order numbers continue after "
                 "the existing C/D numbers.",
        )
        parser.add_argument("--as-of", type=iso_date, metavar="YYYY-MM-DD",
                            help="Anchor date: the history ends at this date (midnight UTC). Default: today.")

    def handle(self, *args, customers, seed, append, as_of, **options):
        show_progress = self.stdout.isatty()
        progress = partial(tqdm, file=sys.stderr, disable=not show_progress, dynamic_ncols=True, leave=True)
        started = time.monotonic()
        try:
            counts = demo.seed_demo(
                customers=customers, seed=seed, append=append, now=as_of, progress=progress,
                # Each step's time: on a terminal, or with -v 2 (a log file, a CI run).
                log=self.stdout.write if show_progress or options["verbosity"] > 1 else None,
            )
        except demo.DemoDataExists:
            raise CommandError(
                "The database already has customers. Use --append to add demo customers to them, "
                "or start from an empty database."
            ) from None
        elapsed = time.monotonic() - started
        self.stdout.write(self.style.SUCCESS(f"Demo data created in {elapsed:.1f} s (seed {seed}):"))
        first = ["customers", "orders", "order_lines", "interactions", "consent_changes", "customer_tags"]
        for name in first + sorted(set(counts) - set(first)):
            self.stdout.write(f"  {name.replace('_', ' ')}: {counts.get(name, 0):,}")
