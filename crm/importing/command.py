"""What the import_customers and import_orders commands share."""

import sys
from pathlib import Path

from django.core.management.base import CommandError

from core.commands import AuditedCommand
from crm.importing.common import ImportFailed, ImportResult


class ImportCommand(AuditedCommand):
    kind = ""  # "customers" or "orders"

    def add_arguments(self, parser):
        parser.add_argument("file", help="the CSV file (UTF-8, with or without BOM; the first line names the columns)")

    def handle(self, *args, file: str, **options):
        from crm.importing import IMPORTERS

        path = Path(file)
        if not path.is_file():
            raise CommandError(f"{file}: no such file.", returncode=1)
        progress = self._progress_bar(path)
        try:
            with open(path, "rb") as source:
                result: ImportResult = IMPORTERS[self.kind](source, progress=progress)
        except ImportFailed as failure:
            for message in failure.errors:
                self.stderr.write(message)
            raise CommandError(
                f"Nothing was imported: {len(failure.errors)} bad row(s) in {file}.", returncode=1
            ) from None
        finally:
            if progress is not None:
                progress.close()
        self.stdout.write(self.style.SUCCESS(f"{self.kind.capitalize()}: {result.summary()}"))

    def _progress_bar(self, path: Path) -> "_TqdmProgress | None":
        """A tqdm bar over the bytes read, only when a person watches the output."""
        if not self.stdout.isatty():
            return None
        from tqdm import tqdm

        return _TqdmProgress(tqdm(
            total=path.stat().st_size, unit="B", unit_scale=True, desc=f"reading {path.name}",
            file=getattr(self.stdout, "_out", sys.stdout), leave=False,
        ))


class _TqdmProgress:
    """The import's progress callback (bytes read) driving a tqdm bar."""

    def __init__(self, bar):
        self.bar = bar

    def __call__(self, advance: int) -> None:
        self.bar.update(advance)
        if self.bar.n >= self.bar.total:
            self.bar.set_description("writing")

    def close(self) -> None:
        self.bar.close()
