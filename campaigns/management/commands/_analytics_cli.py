"""Argument parsing shared by the analytics commands (retention, customer_metrics, cohorts, predict_churn).

Every bad input becomes a CommandError: one line on stderr and exit status 1, no traceback."""

from datetime import date

from django.core.management import CommandError

from campaigns import analytics


def parse_day(value: str, option: str) -> date:
    try:
        return date.fromisoformat(value)
    except (TypeError, ValueError):
        raise CommandError(f"{option} {value!r} is not a date; use YYYY-MM-DD.") from None


def parse_month(value: str, option: str) -> date:
    try:
        year, month = value.split("-")
        return date(int(year), int(month), 1)
    except (AttributeError, ValueError):
        raise CommandError(f"{option} {value!r} is not a month; use YYYY-MM.") from None


def period(start: str | None, end: str | None, *, required: bool) -> tuple[date | None, date | None]:
    if required and (not start or not end):
        raise CommandError("Give both --start and --end (YYYY-MM-DD).")
    first = parse_day(start, "--start") if start else None
    last = parse_day(end, "--end") if end else None
    if first and last and last <= first:
        raise CommandError(f"--end {last} must be after --start {first}.")
    return first, last


def customers(slug: str):
    try:
        return analytics.customers_for(slug)
    except analytics.UnknownSegment as error:
        raise CommandError(str(error)) from None


def rate(value) -> str:
    return "–" if value is None else f"{100 * value:.1f}%"
