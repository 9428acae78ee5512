"""Small helpers shared by the club's services: the membership lock and work after commit."""

from django.db import transaction

from club.dates import day_end, day_start
from club.models import Membership

__all__ = ["after_commit", "day_end", "day_start", "lock_member"]  # the day helpers live in club.dates


def lock_member(member: Membership | int) -> Membership:
    """The membership row, locked until the transaction ends.

    Every change to a member's points goes through this lock, so two tills spending
    the same points at once are served one after the other and the second sees the
    balance the first left."""
    pk = member.pk if isinstance(member, Membership) else member
    return Membership.objects.select_for_update(of=("self",)).select_related("tier", "customer").get(pk=pk)


def after_commit(func, *args, **kwargs) -> None:
    transaction.on_commit(lambda: func(*args, **kwargs))
