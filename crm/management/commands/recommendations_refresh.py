"""Recompute every customer's product recommendations now (what the nightly job does)."""

import json
import sys

from core.commands import AuditedCommand
from crm.recommend import recommendations_refresh


class Command(AuditedCommand):
    help = ("Recompute every customer's top 10 product recommendations from counted orders (item-to-item "
            "co-purchase, products due again, city and overall bestsellers), replacing the stored ones chunk by chunk.")

    def add_arguments(self, parser):
        parser.add_argument("--chunk-size", type=int, help="customer ids per DELETE + INSERT (default RECOMMEND_CHUNK_SIZE)")
        parser.add_argument("--json", action="store_true", dest="as_json", help="print the summary as JSON")

    def handle(self, *args, chunk_size=None, as_json=False, **options):
        bar = self._progress_bar()

        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.update(done - bar.n)

        try:
            summary = recommendations_refresh(chunk_size=chunk_size, progress=progress if bar is not None else None)
        finally:
            if bar is not None:
                bar.close()
        if as_json:
            self.stdout.write(json.dumps(summary))
            return
        self.stdout.write(self.style.SUCCESS(
            f"{summary['recommendations']} recommendations for {summary['customers']} customer(s) "
            f"in {summary['seconds']} s ({summary['pairs']} product neighbours)."
        ))

    def _progress_bar(self):
        """A tqdm bar over the customer ids, only when a person watches the output."""
        if not self.stdout.isatty():
            return None
        from tqdm import tqdm

        return tqdm(unit="ids", file=getattr(self.stdout, "_out", sys.stdout), leave=False, desc="recommending")
