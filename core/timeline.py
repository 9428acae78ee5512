"""The customer timeline: one list of everything that happened to a customer.

Each app contributes a provider per kind of entry, with the label the customer page's filter shows in the
staff member's language (`timeline_contribute(kind, provider, label=gettext_lazy(...))` in its contributions module), so the customer page shows orders, points, feedback, returns and
messages without crm importing the apps that own them. A provider takes a customer and a limit
and returns at most that many `TimelineEntry`s, newest first, in a constant number of queries.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from heapq import merge
from itertools import islice

from core.registry import Registry


@dataclass(frozen=True)
class TimelineEntry:
    when: datetime
    kind: str  # a short machine name: "interaction", "order", "points", ...
    title: str
    detail: str = ""
    url: str = ""
    badge: str = ""
    extra: dict = field(default_factory=dict, compare=False)


# provider(customer, *, limit) -> list[TimelineEntry], newest first
Provider = Callable[..., list[TimelineEntry]]
# kind ("order", "points", ...) -> Provider
timeline_registry: Registry[Provider] = Registry("timeline entries")
# kind -> its translatable label ("Points", "Coupons"...), read in the reader's language when shown
timeline_label_registry: Registry[str] = Registry("timeline entry labels")


def timeline_contribute(kind: str, provider: Provider, *, label) -> Provider:
    """Declare a kind of timeline entry: its provider and its label (a lazy translation)."""
    timeline_label_registry.register(kind, label)
    return timeline_registry.register(kind, provider)


def kind_label(kind: str) -> str:
    return str(timeline_label_registry.get(kind) or kind.replace("_", " ").capitalize())


def registered_kinds() -> list[str]:
    return list(timeline_registry)


def customer_timeline(customer, *, limit: int = 50, kinds: list[str] | None = None) -> list[TimelineEntry]:
    streams = [
        provider(customer, limit=limit)
        for kind, provider in timeline_registry.items()
        if kinds is None or kind in kinds
    ]
    return list(islice(merge(*streams, key=lambda entry: entry.when, reverse=True), limit))
