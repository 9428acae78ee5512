"""The customer timeline: one list of everything that happened to a customer.

Each app contributes entries through `register`, so crm shows points, feedback,
returns and messages without importing the apps that own them. A provider takes a
customer and a limit and returns at most that many `TimelineEntry`s, newest first,
in a constant number of queries.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from heapq import merge
from itertools import islice

from django.urls import reverse
from django.utils.translation import gettext as _


@dataclass(frozen=True)
class TimelineEntry:
    when: datetime
    kind: str  # a short machine name: "interaction", "order", "points", ...
    title: str
    detail: str = ""
    url: str = ""
    badge: str = ""
    extra: dict = field(default_factory=dict, compare=False)


Provider = Callable[..., list[TimelineEntry]]
_providers: dict[str, Provider] = {}


def register(kind: str, provider: Provider) -> None:
    _providers[kind] = provider


def registered_kinds() -> list[str]:
    return list(_providers)


def customer_timeline(customer, *, limit: int = 50, kinds: list[str] | None = None) -> list[TimelineEntry]:
    streams = [
        provider(customer, limit=limit)
        for kind, provider in _providers.items()
        if kinds is None or kind in kinds
    ]
    return list(islice(merge(*streams, key=lambda entry: entry.when, reverse=True), limit))


def _interaction_entries(customer, *, limit: int) -> list[TimelineEntry]:
    interactions = customer.interactions.select_related("staff", "order").order_by("-occurred_at", "-id")[:limit]
    return [
        TimelineEntry(
            when=item.occurred_at,
            kind="interaction",
            title=f"{item.get_channel_display()} ({item.get_direction_display()}): {item.subject}",
            detail=item.body,
            url=reverse("admin:crm_interaction_change", args=[item.pk]),
            badge=item.get_status_display(),
            extra={
                "staff": item.staff.get_username() if item.staff else "",
                "follow_up_on": item.follow_up_on,
                "order": item.order.order_number if item.order else "",
            },
        )
        for item in interactions
    ]


def _order_entries(customer, *, limit: int) -> list[TimelineEntry]:
    orders = customer.orders.order_by("-placed_at", "-id")[:limit]
    return [
        TimelineEntry(
            when=order.placed_at,
            kind="order",
            title=_("Order %(number)s: %(total)s %(currency)s")
            % {"number": order.order_number, "total": order.total, "currency": order.currency},
            detail=_("Refunded %(amount)s") % {"amount": order.refunded_amount} if order.refunded_amount else "",
            url=reverse("admin:crm_order_change", args=[order.pk]),
            badge=order.get_status_display(),
            extra={"channel": order.get_channel_display()},
        )
        for order in orders
    ]


def _consent_entries(customer, *, limit: int) -> list[TimelineEntry]:
    changes = customer.consent_changes.select_related("changed_by").order_by("-changed_at", "-id")[:limit]
    return [
        TimelineEntry(
            when=change.changed_at,
            kind="consent",
            title=str(change),
            badge=_("Consent"),
            extra={"staff": change.changed_by.get_username() if change.changed_by else ""},
        )
        for change in changes
    ]


def register_crm_entries() -> None:
    register("interaction", _interaction_entries)
    register("order", _order_entries)
    register("consent", _consent_entries)
