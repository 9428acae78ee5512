"""The change list's date hierarchy (years, then months, then days) in a Jalali language's calendar.

Django's drill-down filters by Gregorian `__year`/`__month`/`__day`, and a Jalali month straddles two
Gregorian ones; here each link filters by the span itself (`placed_at__gte=...&placed_at__lt=...`, the same
bounded lookups Django builds for its own links), and the level shown is read back from that span.
The result has the shape of Django's `date_hierarchy` (admin/date_hierarchy.html renders either).
"""

from datetime import date, datetime, time, timedelta

from django.contrib.admin.utils import get_fields_from_path
from django.db import models
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _

from core.templatetags.localized import (
    calendar_month, calendar_year, local_month_day, local_year, local_year_month,
)


def jalali_date_hierarchy(cl) -> dict:
    field_name = cl.date_hierarchy
    with_time = isinstance(get_fields_from_path(cl.model, field_name)[-1], models.DateTimeField)
    after, before = f"{field_name}__gte", f"{field_name}__lt"

    def bound(day: date) -> str:
        if with_time:  # midnight where the staff member is, with its offset: no naive datetime in the filter
            return timezone.make_aware(datetime.combine(day, time.min)).isoformat()
        return day.isoformat()

    def link(span: tuple[date, date] | None) -> str:
        return cl.get_query_string({after: bound(span[0]), before: bound(span[1])} if span else {}, [f"{field_name}__"])

    days = _days(cl.queryset, field_name, with_time)
    span = _chosen_span(cl.params.get(after), cl.params.get(before))
    if span is None and days:  # as Django does: all in one year (month) opens at that year (month)
        year, month = calendar_year(days[0]), calendar_month(days[0])
        span = month if days[-1] < month[1] else year if days[-1] < year[1] else None
    level = _level(span)

    if level == "day":
        return {"show": True, "back": {"link": link(calendar_month(span[0])), "title": local_year_month(span[0])},
                "choices": [{"title": local_month_day(span[0])}]}
    if level == "month":
        return {"show": True, "back": {"link": link(calendar_year(span[0])), "title": local_year(span[0])},
                "choices": [{"link": link((day, day + timedelta(days=1))), "title": local_month_day(day)}
                            for day in days if span[0] <= day < span[1]]}
    if level == "year":
        months = sorted({calendar_month(day) for day in days if span[0] <= day < span[1]})
        return {"show": True, "back": {"link": link(None), "title": _("All dates")},
                "choices": [{"link": link(month), "title": local_year_month(month[0])} for month in months]}
    years = sorted({calendar_year(day) for day in days})
    return {"show": True, "back": {"link": link(None), "title": _("All dates")} if span else None,
            "choices": [{"link": link(year), "title": local_year(year[0])} for year in years]}


def _days(queryset, field_name: str, with_time: bool) -> list[date]:
    """The days (in the site's time zone) on which the filtered rows fall, in order."""
    if with_time:
        return sorted({moment.date() for moment in queryset.datetimes(field_name, "day")})
    return sorted(queryset.dates(field_name, "day"))


def _chosen_span(after: str | None, before: str | None) -> tuple[date, date] | None:
    first, last = _day(after), _day(before)
    return (first, last) if first and last and first < last else None


def _day(text: str | None) -> date | None:
    if not text:
        return None
    try:
        moment = parse_datetime(text)
        if moment is not None:
            return timezone.localtime(moment).date() if timezone.is_aware(moment) else moment.date()
        return parse_date(text)
    except ValueError:
        return None


def _level(span: tuple[date, date] | None) -> str | None:
    """Which of our own links chose `span`: a whole year, a whole month or one day (else none of them)."""
    if span is None:
        return None
    if span == calendar_year(span[0]):
        return "year"
    if span == calendar_month(span[0]):
        return "month"
    if span[1] - span[0] == timedelta(days=1):
        return "day"
    return None
