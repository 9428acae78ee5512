"""How the club reacts to crm's events (connected in ClubConfig.ready).

crm sends orders_created / order_changed inside the orders' transaction, so points are
earned or reversed in the same transaction as the orders themselves.
"""

from django.db.models.signals import post_delete, post_save

from crm import signals as crm_signals
from crm.models import Customer, Order


def on_orders_created(sender, order_ids, **kwargs) -> None:
    """A batch of new orders, whichever road it came by: club.services.purchases."""
    from club.services import points_award_for_orders

    points_award_for_orders(order_ids=order_ids, new=True)


def on_order_changed(sender, order: Order, previous_status: str, previous_refunded=None, refund_lines=None, by=None,
                     **kwargs) -> None:
    """A cancellation or a refund takes points back, whichever road it came by (the API, the admin,
    the returns desk): club.services.points.refunds."""
    from club.services import points_take_back_for_order_change

    points_take_back_for_order_change(
        order=order, previous_status=previous_status,
        previous_refunded=order.refunded_amount if previous_refunded is None else previous_refunded,
        refund_lines=refund_lines, by=by,
    )


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
    from club.models import EarningRule, Tier
    from club.selectors.config_rows import config_rows_forget

    for model in (EarningRule, Tier):
        post_save.connect(config_rows_forget, sender=model, dispatch_uid=f"club.config_rows.save.{model.__name__}")
        post_delete.connect(config_rows_forget, sender=model, dispatch_uid=f"club.config_rows.delete.{model.__name__}")
    crm_signals.orders_created.connect(on_orders_created, dispatch_uid="club.on_orders_created")
    crm_signals.order_changed.connect(on_order_changed, dispatch_uid="club.on_order_changed")
    post_save.connect(on_customer_saved, sender=Customer, dispatch_uid="club.on_customer_saved")
