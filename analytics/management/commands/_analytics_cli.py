"""Argument parsing shared by the analytics commands (retention, customer_metrics, cohorts, predict_churn).

Every bad input becomes a CommandError: one line on stderr and exit status 1, no traceback.
Periods and windows go through analytics.periods, so a bad one reads as it does in the API
and the admin."""

from datetime import date

from django.core.exceptions import ValidationError
from django.core.management import CommandError

from analytics import selectors
from analytics.periods import Period, parse_day as parse_period_day


def command_error(error: ValidationError, options: dict[str, str]) -> CommandError:
    """`--start: 2026-04-31 is not a date; use YYYY-MM-DD.`, one field after the other."""
    parts = []
    for field, messages in error.message_dict.items():
        parts.extend(f"{options.get(field, field)}: {message}" for message in messages)
    return CommandError(" ".join(parts))


def parse_day(value: str, option: str) -> date:
    try:
        return parse_period_day(value, limit_years=False)  # predict_churn refuses a future day itself
    except ValidationError as error:
        raise command_error(ValidationError({"day": error}), {"day": option}) from None


def parse_month(value: str, option: str) -> date:
    try:
        year, month = value.split("-")
        return date(int(year), int(month), 1)
    except (AttributeError, ValueError):
        raise CommandError(f"{option} {value!r} is not a month; use YYYY-MM.") from None


def period(start: str | None, end: str | None, *, required: bool, window: int | None = None) -> Period:
    try:
        return Period.parse(start=start, end=end, window=window, required=required)
    except ValidationError as error:
        raise command_error(error, {"start": "--start", "end": "--end", "window": "--window"}) from None


def customers(slug: str):
    try:
        return selectors.customers_for(slug)
    except selectors.UnknownSegment as error:
        raise CommandError(str(error)) from None


def rate(value) -> str:
    return "–" if value is None else f"{100 * value:.1f}%"
