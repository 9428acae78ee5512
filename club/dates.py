"""Local-day boundaries (TIME_ZONE) that the club's jobs, windows and reports share.

Below both the selectors and the services, so a report and the job it describes cut a
day at the same instant.
"""

from datetime import date, datetime, time, timedelta

from django.utils import timezone


def day_start(day: date) -> datetime:
    """Local midnight at the start of `day` in TIME_ZONE, as an aware datetime."""
    return timezone.make_aware(datetime.combine(day, time.min))


def day_end(day: date) -> datetime:
    """Local midnight at the end of `day` (the start of the next day)."""
    return day_start(day + timedelta(days=1))
