"""The fan-out: which subscriptions get an event, and what the payloads carry."""

import json
import zoneinfo
from datetime import date, timedelta

import pytest
from django.db import transaction
from django.utils import timezone, translation

from api import services as api_services
from api import webhooks
from api.models import WebhookDelivery, WebhookSubscription
from api.webhooks.events import Subject
from api.webhooks.outbox import payloads_json
from club import signals as club_signals
from club import services as club_services
from api.serializers import (
    CouponRedemptionSerializer,
    CouponSerializer,
    CustomerSerializer,
    OrderSerializer,
    ReturnRequestSerializer,
    SurveyResponseSerializer,
)
from api.serializers import LedgerRowSerializer
from club.models import Coupon, PointsTransaction, TierChange
from crm.models import Customer, Order
from feedback.models import ReturnRequest
from core import jobs
from crm import services as crm_services
from crm import signals as crm_signals
from tests.api.webhook_helpers import subscribe
from tests.helpers import local

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("webhook_settings")]

Status = WebhookDelivery.Status


def as_json(data):
    """Serializer output as the receiver reads it (UUIDs and Decimals as strings)."""
    return json.loads(json.dumps(data, default=str))


# --- Fan-out -------------------------------------------------------------------------------------


def test_an_event_makes_one_delivery_per_subscribed_partner_only(partner, other_partner, customer, receiver, place_order):
    third = api_services.partner_create(name="Shop Three")
    dormant = api_services.partner_create(name="Dormant shop")
    wants_orders = subscribe(partner, receiver, "order.created", "customer.created")
    wants_customers = subscribe(other_partner, receiver, "customer.created")
    inactive = subscribe(third, receiver, "order.created")
    WebhookSubscription.objects.filter(pk=inactive.pk).update(active=False)
    subscribe(dormant, receiver, "order.created")
    dormant.active = False
    dormant.save()

    order = place_order(customer)
    assert list(WebhookDelivery.objects.values_list("subscription", "event")) == [(wants_orders.pk, "order.created")]

    # The same event announced twice is stored once.
    webhooks.on_orders_created(sender=None, order_ids=[order.pk])
    assert WebhookDelivery.objects.count() == 1

    new = crm_services.customer_create(first_name="Nima", email="nima@example.com")
    rows = WebhookDelivery.objects.filter(event="customer.created")
    assert sorted(rows.values_list("subscription", flat=True)) == sorted([wants_orders.pk, wants_customers.pk])
    assert {row.payload["id"] for row in rows} == {str(new.public_id)}
    assert len({row.event_id for row in rows}) == 1  # one event, one id, for every partner


def test_own_data_only_subscriptions_hear_only_of_their_partners_customers(partner, other_partner, receiver, place_order):
    own = subscribe(partner, receiver, "customer.created", "order.created", own_data_only=True)
    everything = subscribe(other_partner, receiver, "customer.created", "order.created")

    mine = api_services.partner_customer_create(partner=partner, first_name="Mine", email="mine@example.com")
    theirs = crm_services.customer_create(first_name="Theirs", email="theirs@example.com")
    place_order(mine)
    place_order(theirs)

    def seen(subscription):
        return sorted((row.event, row.payload.get("customer", row.payload["id"])) for row in subscription.deliveries.all())

    assert seen(own) == sorted([("customer.created", str(mine.public_id)), ("order.created", str(mine.public_id))])
    assert seen(everything) == sorted([
        ("customer.created", str(mine.public_id)), ("customer.created", str(theirs.public_id)),
        ("order.created", str(mine.public_id)), ("order.created", str(theirs.public_id)),
    ])

    # Shared later: from then on its events reach the own-data-only subscription too.
    api_services.partner_customer_share(partner=partner, customer=theirs)
    place_order(theirs)
    assert seen(own).count(("order.created", str(theirs.public_id))) == 1


def test_nobody_subscribed_costs_no_query_per_event(customer, place_order, django_assert_num_queries):
    webhooks.on_orders_created(sender=None, order_ids=[place_order(customer).pk])  # remembers "nobody subscribed"
    order = place_order(customer)
    with django_assert_num_queries(0):
        webhooks.on_orders_created(sender=None, order_ids=[order.pk])


def test_a_batch_s_points_and_tier_events_commit_with_it_or_not_at_all(partner, member, receiver, place_order, tiers):
    """points.earned and tier.changed of a batch are written in its transaction (club.signals.points_earned,
    tiers_changed): a batch that rolls back leaves no webhook behind, one that commits leaves every event."""
    subscribe(partner, receiver, "points.earned", "tier.changed")

    class Abandoned(Exception):
        pass

    with pytest.raises(Abandoned), transaction.atomic():
        place_order(member.customer, total="5000.00", status="paid")  # enough for a tier
        assert set(WebhookDelivery.objects.values_list("event", flat=True)) == {"points.earned", "tier.changed"}
        raise Abandoned
    assert not WebhookDelivery.objects.exists() and not PointsTransaction.objects.exists()

    place_order(member.customer, total="5000.00", status="paid")
    assert sorted(WebhookDelivery.objects.values_list("event", flat=True)) == ["points.earned", "tier.changed"]


def test_club_events_carry_public_ids(partner, member, offer, receiver, place_order, celery_eager,
                                      django_capture_on_commit_callbacks):
    subscribe(partner, receiver, "points.earned", "coupon.issued", "coupon.redeemed")
    customer = member.customer
    with django_capture_on_commit_callbacks(execute=True):
        order = place_order(customer, total="250.00", status="paid")
    with django_capture_on_commit_callbacks(execute=True):
        coupon = club_services.offer_redeem(member=member, offer=offer)
    with django_capture_on_commit_callbacks(execute=True):
        club_services.coupon_redeem(code=coupon.code, order_value="100.00", customer=customer)

    by_event = {}
    for body in receiver.bodies():
        by_event.setdefault(body["event"], []).append(body["data"])
    # Each is what the API's serializer shows for the object, plus whose it is.
    row = PointsTransaction.objects.get(order=order, kind="earn")
    earned = [data for data in by_event["points.earned"] if data["order"] == str(order.public_id)]
    assert earned == [as_json({**LedgerRowSerializer(row).data, "customer": str(customer.public_id)})]
    assert earned[0]["id"] == str(row.public_id) and earned[0]["points"] == 250
    coupon = Coupon.objects.get(pk=coupon.pk)
    assert by_event["coupon.issued"] == [as_json({**CouponSerializer(coupon).data, "customer": str(customer.public_id),
                                                  "redeemed_at": None})]
    assert by_event["coupon.issued"][0]["offer"] == str(offer.public_id)
    assert by_event["coupon.redeemed"] == [as_json({**CouponRedemptionSerializer(coupon.redemption).data,
                                                    "customer": str(customer.public_id)})]
    assert by_event["coupon.redeemed"][0]["discount"] == "10.00"
    assert all(str(member.pk) != data["customer"] for datas in by_event.values() for data in datas)


def test_the_tier_review_announces_each_member_it_moves(partner, make_member, tiers, receiver, settings, time_machine,
                                                        django_capture_on_commit_callbacks):
    settings.CLUB_TIER_GRACE_DAYS = 1
    time_machine.move_to(local(2024, 1, 10, 12), tick=False)
    movers = [make_member(), make_member()]
    stays = make_member()
    for index, member in enumerate(movers):
        club_services.points_award(member=member, points=600, source="event", reason="test", idempotency_key=f"k{index}")
    subscribe(partner, receiver, "tier.changed")

    time_machine.move_to(local(2025, 3, 1, 12), tick=False)
    with django_capture_on_commit_callbacks(execute=True):
        assert club_services.tiers_review(run_date=date(2025, 3, 1))["changed"] == 0  # the grace period starts
    with django_capture_on_commit_callbacks(execute=True):
        assert club_services.tiers_review(run_date=date(2025, 3, 2))["changed"] == 2

    assert TierChange.objects.filter(reason="review_downgrade").count() == 2
    rows = WebhookDelivery.objects.filter(event="tier.changed")
    assert sorted(row.payload["customer"] for row in rows) == sorted(str(member.customer.public_id) for member in movers)
    assert {(row.payload["from_tier"], row.payload["to_tier"], row.payload["reason"]) for row in rows} == {
        ("Silver", "Bronze", "review_downgrade")}
    assert str(stays.customer.public_id) not in {row.payload["customer"] for row in rows}


def test_feedback_events_carry_public_ids(partner, other_partner, customer, survey, order_with_lines, receiver,
                                         django_capture_on_commit_callbacks):
    from feedback import services as feedback_services
    from feedback.services import returns as return_services

    subscription = subscribe(partner, receiver, "survey.answered", "return.updated")
    own = subscribe(other_partner, receiver, "survey.answered", "return.updated", own_data_only=True)
    order = order_with_lines(customer, status="fulfilled")
    invite = feedback_services.invitation_create(survey=survey, customer=customer)
    nps = survey.questions.get(type="nps")
    response = feedback_services.response_submit(survey=survey, invitation=invite.invitation, answers={nps: 10})
    line = order.lines.order_by("pk").first()
    with django_capture_on_commit_callbacks(execute=True):
        request = return_services.return_request_create(
            order=order, lines=[return_services.LineRequest(order_line_id=line.pk, quantity=1, reason="damaged")],
        )

    payloads = {row.event: row.payload for row in subscription.deliveries.all()}
    assert payloads["survey.answered"] == as_json(SurveyResponseSerializer(response).data)
    assert payloads["survey.answered"]["id"] == str(response.public_id)
    assert payloads["survey.answered"]["survey"] == str(survey.public_id)
    assert payloads["survey.answered"]["customer"] == str(customer.public_id)
    request = ReturnRequest.objects.get(pk=request.pk)
    assert payloads["return.updated"] == as_json(ReturnRequestSerializer(request).data)
    assert (payloads["return.updated"]["id"], payloads["return.updated"]["order"]) == (str(request.public_id), str(order.public_id))
    assert payloads["return.updated"]["state"] == "requested"
    assert not own.deliveries.exists()  # not the other partner's customer


def test_old_finished_deliveries_are_purged_pending_ones_kept(partner, customer, receiver, place_order, time_machine):
    time_machine.move_to(local(2026, 1, 1, 12), tick=False)
    subscribe(partner, receiver, "order.created")
    place_order(customer)
    place_order(customer)
    delivered, pending = WebhookDelivery.objects.order_by("pk")
    WebhookDelivery.objects.filter(pk=delivered.pk).update(status=Status.DELIVERED)
    time_machine.move_to(local(2026, 2, 15, 12), tick=False)
    assert jobs.run_job("api.purge")["webhook_deliveries"] == 1
    assert list(WebhookDelivery.objects.values_list("pk", flat=True)) == [pending.pk]


# --- Payloads are the API's serializer output, rendered per batch -----------------------------------


def test_a_customer_payload_is_what_the_api_shows(partner, receiver):
    subscribe(partner, receiver, "customer.created")
    new = crm_services.customer_create(first_name="Nima", email="nima@example.com", tags=["vip"])
    payload = WebhookDelivery.objects.get().payload
    assert payload == as_json(CustomerSerializer(Customer.objects.prefetch_related("tags").get(pk=new.pk)).data)
    assert payload["id"] == str(new.public_id) and payload["tags"] == ["vip"]


def test_a_batch_of_events_costs_the_queries_of_one(partner, other_partner, customer, receiver, place_order,
                                                    django_assert_num_queries):
    subscribe(partner, receiver, "order.created")
    subscribe(other_partner, receiver, "order.created", own_data_only=True)
    orders = [place_order(customer) for _index in range(5)]
    webhooks.subscribed_events()  # the subscriptions remembered, as between two events of an import

    def emit(batch, tag):  # known by their ids, as a file's import names them: read again
        return webhooks.events_emit(
            event="order.created", render=webhooks.RENDERERS["order.created"],
            emissions=[webhooks.Emission(customer_id=order.customer_id, subject=Subject(order.pk),
                                         key=f"{tag}:{order.public_id}") for order in batch],
        )

    # Own-data links, orders with their customers, their lines, the insert.
    with django_assert_num_queries(4):
        assert emit(orders[:1], "one") == 1
    with django_assert_num_queries(4):
        assert emit(orders, "many") == 5
    with django_assert_num_queries(5):  # the same, and the batch's orders (crm's event names their ids)
        webhooks.on_orders_created(sender=None, order_ids=[order.pk for order in orders])
    written = WebhookDelivery.objects.count()
    # The rows the road wrote handed over (crm.services.orders_create), rendered as they are: the links, the insert.
    with django_assert_num_queries(2):
        webhooks.on_orders_created(sender=None, order_ids=[order.pk for order in orders], orders=orders[::-1])
    assert WebhookDelivery.objects.count() == written  # the same events: nothing written twice
    rendered = WebhookDelivery.objects.filter(payload__id=str(orders[2].public_id)).values_list("payload", flat=True)
    assert {json.dumps(payload, sort_keys=True) for payload in rendered} == {
        json.dumps(as_json(OrderSerializer(Order.objects.prefetch_related("lines").get(pk=orders[2].pk)).data), sort_keys=True)}


@pytest.mark.parametrize("customer_handed", [True, False], ids=["customer-handed", "customer-id-only"])
def test_payloads_rendered_from_the_rows_an_order_wrote_are_byte_for_byte_those_of_fresh_rows(
        partner, member, receiver, django_assert_num_queries, customer_handed):
    """order.created and points.earned render the rows the batch wrote, as crm and the club hand them over (the
    order with its customer and lines, the ledger row with its order, rule and member), with no query: the same
    JSON, byte for byte, as the same subjects read again (what the worker renders for a large batch), with lines,
    money, a time zone away from UTC and the description in the request's language."""
    subscribe(partner, receiver, "order.created", "points.earned")
    handed = {}

    def keep_orders(sender, orders=None, **kwargs):
        handed["order.created"] = orders

    def keep_ledger_rows(sender, transactions=None, **kwargs):
        handed["points.earned"] = transactions

    crm_signals.orders_created.connect(keep_orders, dispatch_uid="test.keep_orders")
    club_signals.points_earned.connect(keep_ledger_rows, dispatch_uid="test.keep_ledger_rows")
    lines = (crm_services.LineInput(sku="BEANS", product_name="قهوه", category="coffee", quantity=3, unit_price="7.25"),
             crm_services.LineInput(sku="MUG", product_name="Mug", category="ware", quantity=1, unit_price="10.00"))
    order = crm_services.OrderInput(customer_id=member.customer.pk, customer=member.customer if customer_handed else None,
                                    order_number="W-1", placed_at=timezone.now() - timedelta(hours=5, microseconds=7),
                                    total="30.75", discount="1.50", currency="eur", lines=lines)
    try:
        with translation.override("fa"), timezone.override(zoneinfo.ZoneInfo("Asia/Tehran")):
            crm_services.orders_create(orders=[order], source="shop")
            for event, written in handed.items():
                read = 0
                if event == "order.created" and not customer_handed:
                    # As it was handed over (rendering it for the outbox has set it): its customer's public id is
                    # read for the batch, once.
                    Order.customer.field.delete_cached_value(written[0])
                    read = 1
                with django_assert_num_queries(read):
                    from_written = payloads_json(webhooks.RENDERERS[event](written))
                fresh = payloads_json(webhooks.RENDERERS[event]([Subject(row.pk) for row in written]))
                assert json.dumps(from_written) == json.dumps(fresh)
                stored = WebhookDelivery.objects.get(event=event).payload
                assert stored == fresh[0]
    finally:
        crm_signals.orders_created.disconnect(dispatch_uid="test.keep_orders")
        club_signals.points_earned.disconnect(dispatch_uid="test.keep_ledger_rows")
    assert set(handed) == {"order.created", "points.earned"}
    placed = WebhookDelivery.objects.get(event="order.created").payload
    earned = WebhookDelivery.objects.get(event="points.earned").payload
    assert [line["unit_price"] for line in placed["lines"]] == ["7.25", "10.00"] and placed["discount"] == "1.50"
    assert placed["placed_at"].endswith("+03:30") and placed["customer"] == str(member.customer.public_id)
    assert earned["reason"] == "سفارش W-1" and earned["order"] == placed["id"]
    assert earned["points"] == PointsTransaction.objects.get(order__public_id=placed["id"]).points > 0
    assert earned["created_at"].endswith("+03:30") and earned["customer"] == str(member.customer.public_id)


def test_a_large_batch_leaves_its_payloads_to_the_worker_which_renders_what_a_small_batch_gets(
        partner, receiver, customer, settings):
    settings.API_WEBHOOK_RENDER_IN_WORKER_AT = 3
    subscribe(partner, receiver, "order.created")

    def batch(prefix, count):
        return crm_services.orders_create(orders=[
            crm_services.OrderInput(customer_id=customer.pk, order_number=f"{prefix}-{index}", total="30.00",
                                    placed_at=timezone.now() - timedelta(hours=1),
                                    lines=(crm_services.LineInput(sku="BEANS", unit_price="15.00", quantity=2),))
            for index in range(count)
        ])

    small, large = batch("S", 2), batch("L", 3)
    rows = {row.subject_id or row.payload["id"]: row for row in WebhookDelivery.objects.filter(event="order.created")}
    assert [rows[str(order.public_id)].payload is not None for order in small] == [True, True]
    assert [rows[order.pk].payload for order in large] == [None, None, None]  # left to the worker

    assert webhooks.payloads_render([row.pk for row in rows.values()]) == 3  # the rendered ones are left alone
    for order in small + large:
        expected = as_json(OrderSerializer(Order.objects.prefetch_related("lines").get(pk=order.pk)).data)
        assert WebhookDelivery.objects.get(event="order.created", event_id=rows[
            str(order.public_id) if order in small else order.pk].event_id).payload == expected
