"""Receivers of the domain's signals, and the payloads they send (connected in ApiConfig.ready)."""

from django.db.models.signals import post_delete, post_save

from api.models import Partner, PartnerCustomer, WebhookEvent, WebhookSubscription
from api.webhooks.outbox import event_emit, subscribed_events_forget


def _customer_public_id(customer_id: int | None):
    from crm.models import Customer

    if customer_id is None:
        return None
    return Customer.objects.filter(pk=customer_id).values_list("public_id", flat=True).first()


def on_customer_created(sender, customer, **kwargs) -> None:
    # Own-data-only subscriptions of the partner creating the customer through the API hear of it
    # when the link is written a moment later (on_partner_customer_saved), in the same transaction.
    event_emit(event=WebhookEvent.CUSTOMER_CREATED, customer_id=customer.pk, key=str(customer.public_id),
               data=lambda: _customer_data(customer))


def on_partner_customer_saved(sender, instance: PartnerCustomer, created: bool, raw: bool = False, **kwargs) -> None:
    if raw or not created or not instance.created:
        return
    customer = instance.customer
    event_emit(event=WebhookEvent.CUSTOMER_CREATED, customer_id=customer.pk, key=str(customer.public_id),
               partner_id=instance.partner_id, own_data_only=True, data=lambda: _customer_data(customer))


def _customer_data(customer) -> dict:
    return {"customer": customer.public_id, "external_ref": customer.external_ref or None, "created_at": customer.created_at}


def on_order_created(sender, order, **kwargs) -> None:
    event_emit(event=WebhookEvent.ORDER_CREATED, customer_id=order.customer_id, key=str(order.public_id), data=lambda: {
        "order": order.public_id, "order_number": order.order_number, "customer": _customer_public_id(order.customer_id),
        "status": order.status, "channel": order.channel, "currency": order.currency, "total": order.total,
        "placed_at": order.placed_at,
    })


def on_points_changed(sender, transaction, **kwargs) -> None:
    from club.models import PointsTransaction

    row = transaction
    if row.kind != PointsTransaction.Kind.EARN or row.points <= 0:
        return
    customer_id = row.member.customer_id
    event_emit(event=WebhookEvent.POINTS_EARNED, customer_id=customer_id, key=str(row.pk), data=lambda: {
        "customer": _customer_public_id(customer_id), "points": row.points, "source": row.source,
        "order": _order_public_id(row.order_id), "created_at": row.created_at,
    })


def _order_public_id(order_id: int | None):
    from crm.models import Order

    if order_id is None:
        return None
    return Order.objects.filter(pk=order_id).values_list("public_id", flat=True).first()


def on_tier_changed(sender, member, from_tier=None, to_tier=None, reason: str = "", **kwargs) -> None:
    event_emit(event=WebhookEvent.TIER_CHANGED, customer_id=member.customer_id, data=lambda: {
        "customer": _customer_public_id(member.customer_id), "from_tier": from_tier.name if from_tier else None,
        "to_tier": to_tier.name if to_tier else None, "reason": reason,
    })


def on_coupon_issued(sender, coupon, **kwargs) -> None:
    customer_id = coupon.member.customer_id
    event_emit(event=WebhookEvent.COUPON_ISSUED, customer_id=customer_id, key=str(coupon.pk), data=lambda: {
        "customer": _customer_public_id(customer_id), "code": coupon.code, "kind": coupon.kind, "offer": coupon.offer_id,
        "discount_kind": coupon.discount_kind, "value": coupon.value, "min_order_value": coupon.min_order_value,
        "valid_from": coupon.valid_from, "expires_at": coupon.expires_at,
    })


def on_coupon_redeemed(sender, coupon, redemption, **kwargs) -> None:
    customer_id = coupon.member.customer_id
    event_emit(event=WebhookEvent.COUPON_REDEEMED, customer_id=customer_id, key=str(redemption.pk), data=lambda: {
        "customer": _customer_public_id(customer_id), "code": coupon.code, "order": _order_public_id(redemption.order_id),
        "order_value": redemption.order_value, "discount": redemption.discount, "redeemed_at": redemption.redeemed_at,
    })


def on_return_updated(sender, return_request, **kwargs) -> None:
    request = return_request
    event_emit(event=WebhookEvent.RETURN_UPDATED, customer_id=request.customer_id, key=f"{request.public_id}:{request.state}",
               data=lambda: {
                   "return": request.public_id, "order": _order_public_id(request.order_id),
                   "customer": _customer_public_id(request.customer_id), "state": request.state,
                   "resolution": request.resolution, "refund_amount": request.refund_amount, "updated_at": request.updated_at,
               })


def on_response_submitted(sender, response, **kwargs) -> None:
    event_emit(event=WebhookEvent.SURVEY_ANSWERED, customer_id=response.customer_id, key=str(response.pk), data=lambda: {
        "survey": response.survey_id, "response": response.pk, "customer": _customer_public_id(response.customer_id),
        "submitted_at": response.submitted_at,
    })


def connect() -> None:
    from club import signals as club_signals
    from crm import signals as crm_signals
    from feedback import signals as feedback_signals

    pairs = [
        (crm_signals.customer_created, on_customer_created),
        (crm_signals.order_created, on_order_created),
        (club_signals.points_changed, on_points_changed),
        (club_signals.tier_changed, on_tier_changed),
        (club_signals.coupon_issued, on_coupon_issued),
        (club_signals.coupon_redeemed, on_coupon_redeemed),
        (feedback_signals.return_updated, on_return_updated),
        (feedback_signals.response_submitted, on_response_submitted),
    ]
    for signal, receiver in pairs:
        signal.connect(receiver, dispatch_uid=f"api.webhooks.{receiver.__name__}")
    post_save.connect(on_partner_customer_saved, sender=PartnerCustomer, dispatch_uid="api.webhooks.partner_customer")
    for model in (WebhookSubscription, Partner):
        post_save.connect(subscribed_events_forget, sender=model, dispatch_uid=f"api.webhooks.forget.save.{model.__name__}")
        post_delete.connect(subscribed_events_forget, sender=model, dispatch_uid=f"api.webhooks.forget.delete.{model.__name__}")
