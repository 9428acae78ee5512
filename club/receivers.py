"""How the club reacts to crm's events (connected in ClubConfig.ready).

crm sends order_created / order_changed inside the order's transaction, so points are
earned or reversed in the same transaction as the order itself.
"""

from django.db.models.signals import post_save

from crm import signals as crm_signals
from crm.models import Customer, Order


def on_order_created(sender, order: Order, **kwargs) -> None:
    from club.services import points_award_for_order

    points_award_for_order(order=order)


def on_order_changed(sender, order: Order, previous_status: str, by=None, **kwargs) -> None:
    """A cancellation or full refund takes back what is left of the order's points.

    Partial refunds are left to the returns desk, which names the lines returned
    (points_reverse_for_order with lines); reversing here too would take them twice."""
    from club.services import points_reverse_for_order

    if order.status in (Order.Status.CANCELLED, Order.Status.REFUNDED) and previous_status != order.status:
        points_reverse_for_order(order=order, by=by)


def on_customer_saved(sender, instance: Customer, created: bool, raw: bool = False, **kwargs) -> None:
    """Profile completion bonus when a member's birth date, phone and email are all filled in."""
    from club.models import Membership
    from club.services import points_award_for_profile
    from club.services.earning import profile_is_complete

    if raw or created or not profile_is_complete(instance):
        return
    member = Membership.objects.filter(customer=instance, status=Membership.Status.ACTIVE).first()
    if member is not None:
        points_award_for_profile(member=member)


def connect() -> None:
    crm_signals.order_created.connect(on_order_created, dispatch_uid="club.on_order_created")
    crm_signals.order_changed.connect(on_order_changed, dispatch_uid="club.on_order_changed")
    post_save.connect(on_customer_saved, sender=Customer, dispatch_uid="club.on_customer_saved")
