"""Calendar helpers shared by the apps (working days differ by country: set CRM_WORKING_DAYS)."""

from datetime import date, timedelta

from django.conf import settings


def next_working_day(day: date) -> date:
    """The first working day strictly after `day`."""
    working = settings.CRM_WORKING_DAYS
    candidate = day + timedelta(days=1)
    while candidate.weekday() not in working:
        candidate += timedelta(days=1)
    return candidate
