"""Receivers of the domain's signals, and the payloads they send (connected in ApiConfig.ready).

A payload is the API's own serializer output for the object, so a webhook carries exactly what
the corresponding GET shows (public ids only). Objects the API lists under a member's path
(ledger rows, coupons, coupon uses) also carry `customer`, the member's public id, because the
webhook has no path to say whose they are. Each renderer loads a whole batch of subjects in a
constant number of queries (`RENDERERS`, used with `events_emit`); a signal is a batch of one.
The rows a batch of orders wrote (the orders, their ledger rows) are handed over by the signals and
rendered as they are, by the same serializer: nothing is read again for them.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import QuerySet
from django.db.models.signals import post_delete, post_save
from rest_framework import serializers

from api.models import Partner, PartnerCustomer, WebhookDelivery, WebhookEvent, WebhookSubscription
from api.serializers import (
    CouponRedemptionSerializer,
    CouponSerializer,
    CustomerSerializer,
    OrderSerializer,
    ReturnRequestSerializer,
    SurveyResponseSerializer,
)
from api.serializers import LedgerRowSerializer, TierChangeSerializer
from api.scoping import partner_of_source
from api.webhooks.outbox import Emission, events_emit, subscribed_events, subscribed_events_forget
from core.content import in_default_language

Render = Callable[[list], list[dict]]


@dataclass(frozen=True)
class Subject:
    """A subject known by its id alone: what a renderer loads (rows_renderer) needs nothing else."""

    pk: int


def rows_renderer(queryset: Callable[[], QuerySet], serializer_class: type[serializers.BaseSerializer],
                  customer: Callable[[object], object] | None = None,
                  written: Callable[[list], list] | None = None) -> Render:
    """Render subjects (model instances, or Subject) from fresh rows, loaded together: one query for the rows
    and one per prefetched relation, whatever the number of subjects.

    `written` picks, among the subjects that are model instances, the rows the request wrote and holds with what
    the serializer reads (completing them, at most one query for the batch): those are rendered as they are,
    the others read again. The same serializer renders both, so the payload is the same either way."""

    def render(subjects: list) -> list[dict]:
        held = set() if written is None else {
            id(row) for row in written([subject for subject in subjects if not isinstance(subject, Subject)])}
        found = queryset().in_bulk([subject.pk for subject in subjects if id(subject) not in held])
        rows = [subject if id(subject) in held else found[subject.pk] for subject in subjects]
        # One serializer for the whole list: DRF copies a serializer's fields once per instance it builds.
        payloads = [dict(data) for data in serializer_class(rows, many=True).data]
        if customer is not None:
            for row, data in zip(rows, payloads):
                public_id = customer(row)
                data["customer"] = str(public_id) if public_id is not None else None
        return payloads

    return render


@dataclass(frozen=True)
class TierMove:
    """A tier change as a webhook tells it: whose, from and to which tier (by name), and why."""

    customer_id: int
    from_tier: str | None
    to_tier: str | None
    reason: str


def render_tier_moves(subjects: list[TierMove]) -> list[dict]:
    from crm.models import Customer

    public_ids = dict(Customer.objects.filter(pk__in={move.customer_id for move in subjects}).values_list("pk", "public_id"))
    return [
        dict(TierChangeSerializer({"customer": public_ids.get(move.customer_id), "from_tier": move.from_tier,
                                   "to_tier": move.to_tier, "reason": move.reason}).data)
        for move in subjects
    ]


def _customers():
    from crm.models import Customer

    return Customer.objects.prefetch_related("tags")


def _orders():
    from crm.models import Order

    return Order.objects.with_customer_public_id().prefetch_related("lines")


def _orders_written(orders: list) -> list:
    """The orders a batch wrote with their lines (crm.services.orders); the customers' public ids not handed
    over with them (OrderInput.customer) are read for the batch in one query."""
    from crm.models import Customer, Order

    held = [order for order in orders if "lines" in getattr(order, "_prefetched_objects_cache", {})]
    unknown = [order for order in held if not Order.customer.is_cached(order)]
    if unknown:
        customers = Customer.objects.only("pk", "public_id").in_bulk({order.customer_id for order in unknown})
        for order in unknown:
            order.customer = customers[order.customer_id]
    return held


def _ledger_rows():
    from club.models import PointsTransaction

    # The facts a row's description is rendered from (with_facts), in the same query: without them each row of a
    # batch read its order again.
    return PointsTransaction.objects.with_facts().select_related("member__customer")


def _ledger_rows_written(rows: list) -> list:
    """The ledger rows a batch wrote, handed over with their order and member's customer (club.signals.points_earned)."""
    from club.models import Membership, PointsTransaction

    return [row for row in rows if PointsTransaction.member.is_cached(row) and Membership.customer.is_cached(row.member)
            and (row.order_id is None or PointsTransaction.order.is_cached(row))]


def _coupons():
    from club.models import Coupon

    return Coupon.objects.select_related("offer", "member__customer")


def _coupon_uses():
    from club.models import CouponRedemption

    return CouponRedemption.objects.select_related("coupon__member__customer", "order")


def _returns():
    from feedback.models import ReturnRequest

    return ReturnRequest.objects.select_related("order", "customer").prefetch_related("lines__order_line", "events")


def _responses():
    from feedback.models import Response

    return Response.objects.select_related("survey", "invitation", "customer")


RENDERERS: dict[str, Render] = {
    WebhookEvent.CUSTOMER_CREATED: rows_renderer(_customers, CustomerSerializer),
    WebhookEvent.ORDER_CREATED: rows_renderer(_orders, OrderSerializer, written=_orders_written),
    WebhookEvent.POINTS_EARNED: rows_renderer(_ledger_rows, LedgerRowSerializer, written=_ledger_rows_written,
                                              customer=lambda row: row.member.customer.public_id),
    WebhookEvent.TIER_CHANGED: render_tier_moves,
    WebhookEvent.COUPON_ISSUED: rows_renderer(_coupons, CouponSerializer, customer=lambda row: row.member.customer.public_id),
    WebhookEvent.COUPON_REDEEMED: rows_renderer(_coupon_uses, CouponRedemptionSerializer,
                                                customer=lambda row: row.coupon.member.customer.public_id),
    WebhookEvent.RETURN_UPDATED: rows_renderer(_returns, ReturnRequestSerializer),
    WebhookEvent.SURVEY_ANSWERED: rows_renderer(_responses, SurveyResponseSerializer),
}


def payloads_render(delivery_ids) -> int:
    """Render the payloads a large batch left to the worker (events_emit), for these deliveries, a few
    queries per event kind: called by the delivery tasks before their attempts. A subject that no
    longer exists (erased meanwhile) renders as {"id": null}. Returns how many were rendered."""
    from api.webhooks.outbox import payloads_json

    pending = list(WebhookDelivery.objects.filter(pk__in=list(delivery_ids), payload__isnull=True)
                   .values_list("pk", "event", "subject_id"))
    by_event: dict[str, list[tuple[int, int]]] = {}
    for pk, event, subject_id in pending:
        by_event.setdefault(event, []).append((pk, subject_id))
    rendered = []
    for event, rows in by_event.items():
        subjects = sorted({subject_id for _pk, subject_id in rows})
        try:
            payloads = dict(zip(subjects, payloads_json(RENDERERS[event]([Subject(pk) for pk in subjects]))))
        except KeyError:  # a subject is gone: render the others one by one
            payloads = {}
            for subject_id in subjects:
                try:
                    payloads[subject_id] = payloads_json(RENDERERS[event]([Subject(subject_id)]))[0]
                except KeyError:
                    payloads[subject_id] = {"id": None}
        rendered.extend(WebhookDelivery(pk=pk, payload=payloads[subject_id]) for pk, subject_id in rows)
    WebhookDelivery.objects.bulk_update(rendered, ["payload"], batch_size=500)
    return len(rendered)


def event_announce(event: str, *, customer_id: int | None, subject, key: str | None = None, **options) -> int:
    """One event about one subject, rendered by the event's renderer."""
    return events_emit(event=event, emissions=[Emission(customer_id=customer_id, subject=subject, key=key)],
                       render=RENDERERS[event], **options)


def on_customer_created(sender, customer, **kwargs) -> None:
    # Own-data-only subscriptions of the partner creating the customer through the API hear of it
    # when the link is written a moment later (on_partner_customer_saved), in the same transaction.
    event_announce(WebhookEvent.CUSTOMER_CREATED, customer_id=customer.pk, subject=customer, key=str(customer.public_id))


def on_partner_customer_saved(sender, instance: PartnerCustomer, created: bool, raw: bool = False, **kwargs) -> None:
    """customer.created for the own-data-only subscriptions of the partner that created the person, or that
    pushed a person who already existed (api.identity): then the payload is the person as that partner sees
    it, so the event, like the API's answer, cannot tell "new" from "existing elsewhere"."""
    if raw or not created or not (instance.created or instance.view is not None):
        return
    customer = instance.customer
    if instance.view is None:
        event_announce(WebhookEvent.CUSTOMER_CREATED, customer_id=customer.pk, subject=customer,
                       key=str(customer.public_id), partner_id=instance.partner_id, own_data_only=True)
        return
    from api.identity import partner_view_render

    customer.partner_linked_at = instance.linked_at
    events_emit(event=WebhookEvent.CUSTOMER_CREATED, partner_id=instance.partner_id, own_data_only=True,
                render=lambda subjects: [partner_view_render(customer, instance.view)], emissions=[
                    Emission(customer_id=customer.pk, key=str(customer.public_id), owner_partner_id=instance.partner_id)])


def on_orders_created(sender, order_ids, orders=None, **kwargs) -> None:
    """One order.created event per order of the batch, written to the outbox together (nothing is
    read when nobody subscribed, nor when the road handed over the rows it wrote: they are rendered as they are)."""
    from crm.models import Order

    if WebhookEvent.ORDER_CREATED not in subscribed_events():
        return
    if orders is not None:
        orders = sorted(((order.pk, order.public_id, order.customer_id, order.source, order) for order in orders),
                        key=lambda values: values[0])
    else:  # plain values, not model instances: the renderer reads them again by id
        orders = [(*values, Subject(values[0])) for values in Order.objects.filter(pk__in=order_ids).order_by("pk")
                  .values_list("pk", "public_id", "customer_id", "source")]
    events_emit(event=WebhookEvent.ORDER_CREATED, render=RENDERERS[WebhookEvent.ORDER_CREATED], deferrable=True, emissions=[
        Emission(customer_id=customer_id, subject=subject, key=str(public_id), owner_partner_id=partner_of_source(source))
        for _pk, public_id, customer_id, source, subject in orders])


def on_points_changed(sender, transactions, **kwargs) -> None:
    from club.models import Membership, PointsTransaction

    earned = [row for row in transactions if row.kind == PointsTransaction.Kind.EARN and row.points > 0]
    if not earned or WebhookEvent.POINTS_EARNED not in subscribed_events():
        return
    customers = dict(Membership.objects.filter(pk__in={row.member_id for row in earned}).values_list("pk", "customer_id"))
    _points_earned_emit([(row.pk, row.public_id, customers[row.member_id]) for row in earned])


def on_points_earned(sender, rows, transactions=None, **kwargs) -> None:
    """A batch's new ledger rows as (id, public id, customer id), in its transaction, and the rows themselves as
    written when the sender holds them (club.services.purchases): nothing read again."""
    _points_earned_emit(rows, transactions)


def _points_earned_emit(rows: list[tuple], transactions=None) -> None:
    """(ledger row id, public id, customer id) of each row: one points.earned each, rendered from the rows
    (the written ones handed over as they are, the others read again)."""
    written = {row.pk: row for row in transactions or ()}
    events_emit(event=WebhookEvent.POINTS_EARNED, render=RENDERERS[WebhookEvent.POINTS_EARNED], deferrable=True, emissions=[
        Emission(customer_id=customer_id, subject=written.get(pk) or Subject(pk), key=str(public_id))
        for pk, public_id, customer_id in rows])


def on_tier_changed(sender, changes, **kwargs) -> None:
    """One tier.changed event per change, written together."""
    # Names in the default language, as the API's tier filter reads them, whatever language the change was made in.
    _tier_moves_emit([
        TierMove(customer_id=change.member.customer_id,
                 from_tier=in_default_language(change.from_tier, "name") if change.from_tier else None,
                 to_tier=in_default_language(change.to_tier, "name") if change.to_tier else None, reason=change.reason)
        for change in changes])


def on_tiers_changed(sender, change_ids, **kwargs) -> None:
    """Tier changes named by id (a batch's upgrades, the review's): one query for them, the tiers' names once."""
    from club.models import Tier, TierChange

    if WebhookEvent.TIER_CHANGED not in subscribed_events():
        return
    names = {tier.pk: in_default_language(tier, "name") for tier in Tier.objects.all()}
    _tier_moves_emit([
        TierMove(customer_id=customer_id, from_tier=names.get(from_tier), to_tier=names.get(to_tier), reason=reason)
        for customer_id, from_tier, to_tier, reason in TierChange.objects.filter(pk__in=change_ids).order_by("pk")
        .values_list("member__customer_id", "from_tier_id", "to_tier_id", "reason")])


def _tier_moves_emit(moves: list[TierMove]) -> None:
    events_emit(event=WebhookEvent.TIER_CHANGED, render=RENDERERS[WebhookEvent.TIER_CHANGED],
                emissions=[Emission(customer_id=move.customer_id, subject=move) for move in moves])


def on_coupon_issued(sender, coupon, **kwargs) -> None:
    event_announce(WebhookEvent.COUPON_ISSUED, customer_id=coupon.member.customer_id, subject=coupon, key=coupon.code)


def on_coupon_redeemed(sender, coupon, redemption, **kwargs) -> None:
    # A coupon is used once (a one-to-one row), so its code names the use too.
    event_announce(WebhookEvent.COUPON_REDEEMED, customer_id=coupon.member.customer_id, subject=redemption, key=coupon.code)


def on_return_updated(sender, return_request, **kwargs) -> None:
    request = return_request
    if WebhookEvent.RETURN_UPDATED not in subscribed_events():
        return  # nothing read when nobody subscribed
    events_emit(event=WebhookEvent.RETURN_UPDATED, render=RENDERERS[WebhookEvent.RETURN_UPDATED], emissions=[
        Emission(customer_id=request.customer_id, subject=request, key=f"{request.public_id}:{request.state}",
                 owner_partner_id=partner_of_source(request.order.source) if request.order_id else None)])


def on_response_submitted(sender, response, **kwargs) -> None:
    event_announce(WebhookEvent.SURVEY_ANSWERED, customer_id=response.customer_id, subject=response,
                   key=str(response.public_id))


def connect() -> None:
    from club import signals as club_signals
    from crm import signals as crm_signals
    from feedback import signals as feedback_signals

    pairs = [
        (crm_signals.customer_created, on_customer_created),
        (crm_signals.orders_created, on_orders_created),
        (club_signals.points_changed, on_points_changed),
        (club_signals.points_earned, on_points_earned),
        (club_signals.tier_changed, on_tier_changed),
        (club_signals.tiers_changed, on_tiers_changed),
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
