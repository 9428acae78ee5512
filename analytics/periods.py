"""Periods: the one parser of a period and activity window typed by a person, and the calendar
of the snapshot periods (months, quarters, years).

`Period.parse` is what the API (`segments/{slug}/metrics/`), the admin dashboard and the
analytics commands all call, so the same bad input gets the same message everywhere: it raises
a ValidationError keyed by the field (start, end, window), each error with a code and params.
"""

import re
from dataclasses import dataclass
from datetime import date

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.dateparse import parse_date
from django.utils.translation import gettext_lazy as _

MIN_YEAR, MAX_YEAR = 1900, 2200  # the API's limit, the strictest of the three former parsers
MIN_WINDOW_DAYS, MAX_WINDOW_DAYS = 1, 3650
# "90" and "90.0" are whole numbers of days (DRF's IntegerField accepted both).
WHOLE_NUMBER = re.compile(r"\s*[-+]?\d+(\.0*)?\s*\Z")

MESSAGES = {
    "required": _("Give a date, YYYY-MM-DD."),
    "invalid_date": _("%(value)s is not a date; use YYYY-MM-DD."),
    "date_out_of_range": _("Give a date between the years %(min_year)s and %(max_year)s."),
    "end_before_start": _("The end must be after the start."),
    "invalid_window": _("The activity window must be a whole number of days."),
    "window_out_of_range": _("The activity window must be between %(min)s and %(max)s days."),
}


@dataclass(frozen=True)
class Period:
    """[start, end) and the activity window in days. start and end are None when they were
    optional and not given (an open period: all time, or until now)."""

    start: date | None
    end: date | None
    window_days: int

    @classmethod
    def parse(cls, *, start=None, end=None, window=None, required: bool = True) -> "Period":
        """start and end: a date or text (YYYY-MM-DD, or any ISO 8601 date); window: an int or text,
        empty for the default (CRM_ACTIVITY_WINDOW_DAYS). `required` asks for both dates."""
        errors: dict[str, ValidationError] = {}
        days = {}
        for name, value in (("start", start), ("end", end)):
            try:
                days[name] = parse_day(value, required=required)
            except ValidationError as error:
                errors[name] = error
        try:
            window_days = _window(window)
        except ValidationError as error:
            errors["window"] = error
        first, last = days.get("start"), days.get("end")
        if first and last and last <= first:
            errors["end"] = _error("end_before_start")
        if errors:
            raise ValidationError(errors)
        return cls(first, last, window_days)

    @property
    def has_dates(self) -> bool:
        return self.start is not None and self.end is not None


def _error(code: str, **params) -> ValidationError:
    return ValidationError(MESSAGES[code], code=code, params=params or None)


def parse_day(value, *, required: bool = True, limit_years: bool = True) -> date | None:
    """One date typed by a person (or a date), checked against the years a period allows
    (`limit_years=False` for a date with limits of its own, such as "not in the future")."""
    if value is None or value == "":
        if required:
            raise _error("required")
        return None
    if isinstance(value, date):
        day = value
    else:
        try:
            day = parse_date(str(value).strip())
        except ValueError:  # well formed, but no such day (2026-02-30)
            day = None
        if day is None:
            raise _error("invalid_date", value=value)
    if limit_years and not MIN_YEAR <= day.year <= MAX_YEAR:
        raise _error("date_out_of_range", min_year=MIN_YEAR, max_year=MAX_YEAR)
    return day


def _window(value) -> int:
    if value is None or value == "":
        return settings.CRM_ACTIVITY_WINDOW_DAYS
    if isinstance(value, bool):
        raise _error("invalid_window")
    if isinstance(value, int):
        days = value
    elif isinstance(value, str) and WHOLE_NUMBER.match(value):
        days = int(value.strip().split(".")[0])
    else:
        raise _error("invalid_window")
    if not MIN_WINDOW_DAYS <= days <= MAX_WINDOW_DAYS:
        raise _error("window_out_of_range", min=MIN_WINDOW_DAYS, max=MAX_WINDOW_DAYS)
    return days


# --- the calendar of snapshot periods ------------------------------------------------------------
# The kinds are SegmentMetricSnapshot.Period (month, quarter, year, custom).

PERIOD_MONTHS = {"month": 1, "quarter": 3, "year": 12}


def add_months(day: date, count: int) -> date:
    year, month = divmod(day.year * 12 + day.month - 1 + count, 12)
    return date(year, month + 1, 1)


def period_start(kind: str, day: date) -> date:
    if kind == "month":
        return day.replace(day=1)
    if kind == "quarter":
        return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    if kind == "year":
        return date(day.year, 1, 1)
    raise ValueError(f"Unknown period {kind!r}")


def shift(kind: str, start: date, count: int) -> date:
    return add_months(start, PERIOD_MONTHS[kind] * count)


def closed_periods(kind: str, today: date, count: int) -> list[tuple[date, date]]:
    """The last `count` periods that have ended by `today`, oldest first."""
    current = period_start(kind, today)
    return [(shift(kind, current, -n), shift(kind, current, -n + 1)) for n in range(count, 0, -1)]


def period_label(kind: str, start: date, end: date | None = None) -> str:
    if kind == "month":
        return start.strftime("%Y-%m")
    if kind == "quarter":  # a label people read: in the reader's language ("2026 Q2")
        return str(_("%(year)s Q%(quarter)s") % {"year": start.year, "quarter": (start.month - 1) // 3 + 1})
    if kind == "year":
        return str(start.year)
    return f"{start.isoformat()} – {end.isoformat()}" if end else start.isoformat()
