"""Helpers for tests of any app (fixtures are in the conftests; factories in tests/factories/)."""

from datetime import datetime
from zoneinfo import ZoneInfo

from django.utils import timezone


def local(*args) -> datetime:
    """A datetime in the project's TIME_ZONE: `local(2025, 3, 1, 9)`."""
    return datetime(*args, tzinfo=ZoneInfo(timezone.get_current_timezone_name()))
