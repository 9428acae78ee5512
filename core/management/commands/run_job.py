"""Run a periodic job by hand: `run_job NAME [--date YYYY-MM-DD]`, `run_job --list`.

The run is recorded as a JobRun (started by hand), succeeded or failed; it is not retried."""

import json
from datetime import date

from django.core.management import CommandError

from core import jobs
from core.commands import AuditedCommand


class Command(AuditedCommand):
    help = "Run a registered periodic job for a date (default today), or list the jobs with --list."

    def add_arguments(self, parser):
        parser.add_argument("name", nargs="?", help="The job to run (see --list).")
        parser.add_argument("--date", help="The date to run the job for, YYYY-MM-DD (default: today in TIME_ZONE).")
        parser.add_argument("--list", action="store_true", help="List the registered jobs and their schedules.")

    def handle(self, *args, **options):
        name = options["name"]
        if options["list"]:
            for job in jobs.registered_jobs():
                cron = " ".join(job.schedule.get(key, "*") for key in ("minute", "hour", "day_of_month", "month_of_year", "day_of_week"))
                self.stdout.write(f"{job.name:<28} {cron:<16} {job.description}")
            return
        if not name:
            raise CommandError("Name a job to run, or use --list.")
        run_date = _parse_date(options["date"]) if options["date"] else None
        try:
            jobs.get_job(name)
        except KeyError as exc:
            raise CommandError(str(exc.args[0])) from None
        try:
            summary = jobs.run_job(name, run_date)
        except Exception as exc:
            # Recorded as a failed JobRun; exit 1 with the reason (the traceback is in the log).
            raise CommandError(f"{name} failed: {type(exc).__name__}: {exc}") from exc
        self.stdout.write(self.style.SUCCESS(f"{name}: {json.dumps(summary, default=str)}"))


def _parse_date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--date {value!r} is not a date; use YYYY-MM-DD.") from None
