"""crm's entries on the customer timeline (core.timeline): interactions, orders, consent changes.

Contributed in crm.contributions, like every other app's entries."""

from django.urls import reverse
from django.utils.translation import gettext as _

from core.direction import isolate_text, ltr_text
from core.timeline import TimelineEntry


def interaction_entries(customer, *, limit: int) -> list[TimelineEntry]:
    interactions = customer.interactions.select_related("staff", "order").order_by("-occurred_at", "-id")[:limit]
    return [
        TimelineEntry(
            when=item.occurred_at,
            kind="interaction",
            title=f"{item.get_channel_display()} ({item.get_direction_display()}): {isolate_text(item.subject_text)}",
            detail=item.body_text,
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


def order_entries(customer, *, limit: int) -> list[TimelineEntry]:
    orders = customer.orders.order_by("-placed_at", "-id")[:limit]
    return [
        TimelineEntry(
            when=order.placed_at,
            kind="order",
            title=_("Order %(number)s: %(total)s %(currency)s")
            % {"number": ltr_text(order.order_number), "total": ltr_text(order.total), "currency": order.currency},
            detail=_("Refunded %(amount)s") % {"amount": ltr_text(order.refunded_amount)} if order.refunded_amount else "",
            url=reverse("admin:crm_order_change", args=[order.pk]),
            badge=order.get_status_display(),
            extra={"channel": order.get_channel_display()},
        )
        for order in orders
    ]


def consent_entries(customer, *, limit: int) -> list[TimelineEntry]:
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
