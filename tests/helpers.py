"""Helpers for tests of any app (fixtures are in the conftests; factories in tests/factories/)."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.utils import timezone


def local(*args) -> datetime:
    """A datetime in the project's TIME_ZONE: `local(2025, 3, 1, 9)`."""
    return datetime(*args, tzinfo=ZoneInfo(timezone.get_current_timezone_name()))


def member_since(member, *, days: int = 730):
    """Date a member's joining back: a member earns only for orders placed on or after joining
    (DESIGN.md, "who earns"), and tests place orders in the past."""
    member.joined_at = timezone.now() - timedelta(days=days)
    type(member).objects.filter(pk=member.pk).update(joined_at=member.joined_at)
    return member
