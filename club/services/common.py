"""Small helpers shared by the club's services."""

from datetime import date, datetime, time, timedelta

from django.db import transaction
from django.utils import timezone

from club.exceptions import NotAMember
from club.models import Membership


def day_start(day: date) -> datetime:
    """Local midnight at the start of `day` in TIME_ZONE, as an aware datetime."""
    return timezone.make_aware(datetime.combine(day, time.min))


def day_end(day: date) -> datetime:
    """Local midnight at the end of `day` (the start of the next day)."""
    return day_start(day + timedelta(days=1))


def lock_member(member: Membership | int) -> Membership:
    """The membership row, locked until the transaction ends.

    Every change to a member's points goes through this lock, so two tills spending
    the same points at once are served one after the other and the second sees the
    balance the first left."""
    pk = member.pk if isinstance(member, Membership) else member
    return Membership.objects.select_for_update(of=("self",)).select_related("tier", "customer").get(pk=pk)


def membership_of(customer) -> Membership:
    try:
        return Membership.objects.select_related("tier").get(customer=customer)
    except Membership.DoesNotExist:
        raise NotAMember(f"{customer} is not a club member.") from None


def after_commit(func, *args, **kwargs) -> None:
    transaction.on_commit(lambda: func(*args, **kwargs))
