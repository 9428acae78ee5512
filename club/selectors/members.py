"""Reads that find members: by customer, whose birthday is due, which earning rules apply."""

import calendar
from datetime import date, datetime

from django.db.models import Q, QuerySet
from django.utils import timezone

from club.exceptions import NotAMember
from club.models import EarningRule, Membership


def membership_for(customer) -> Membership | None:
    return Membership.objects.select_related("tier", "customer").filter(customer=customer).first()


def membership_of(customer) -> Membership:
    """The customer's membership; NotAMember (a 404 in the API) when they have none."""
    try:
        return Membership.objects.select_related("tier").get(customer=customer)
    except Membership.DoesNotExist:
        raise NotAMember(f"{customer} is not a club member.") from None


def members_due_birthday(birthday: date) -> QuerySet:
    """Active members whose birthday falls on `birthday` and who have no reward for its year yet.

    Month/day lookups in SQL; members born on 29 February celebrate on 28 February in other years."""
    born = Q(customer__birth_date__month=birthday.month, customer__birth_date__day=birthday.day)
    if birthday.month == 2 and birthday.day == 28 and not calendar.isleap(birthday.year):
        born |= Q(customer__birth_date__month=2, customer__birth_date__day=29)
    return (
        Membership.objects.filter(status=Membership.Status.ACTIVE).filter(born)
        .exclude(birthday_rewards__year=birthday.year).select_related("tier", "customer").order_by("pk")
    )


def rules_active(kind: str, *, at: datetime | None = None, event_name: str | None = None) -> QuerySet:
    """The earning rules of this kind in force at `at`, newest first (the first one applies)."""
    at = at or timezone.now()
    rules = EarningRule.objects.filter(kind=kind, enabled=True).filter(
        Q(starts_at__isnull=True) | Q(starts_at__lte=at), Q(ends_at__isnull=True) | Q(ends_at__gt=at)
    )
    if event_name is not None:
        rules = rules.filter(event_name=event_name)
    return rules.order_by("-created_at", "-pk")
