"""The fan-out: which subscriptions get an event, and what the payloads carry."""

from datetime import date

import pytest

from api import services as api_services
from api import webhooks
from api.models import WebhookDelivery, WebhookSubscription
from club import services as club_services
from club.models import TierChange
from crm import jobs
from crm import services as crm_services
from tests.api.webhook_helpers import subscribe
from tests.club.conftest import local

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("webhook_settings")]

Status = WebhookDelivery.Status


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
    webhooks.on_order_created(sender=None, order=order)
    assert WebhookDelivery.objects.count() == 1

    new = crm_services.customer_create(first_name="Nima", email="nima@example.com")
    rows = WebhookDelivery.objects.filter(event="customer.created")
    assert sorted(rows.values_list("subscription", flat=True)) == sorted([wants_orders.pk, wants_customers.pk])
    assert {row.payload["customer"] for row in rows} == {str(new.public_id)}
    assert len({row.event_id for row in rows}) == 1  # one event, one id, for every partner


def test_own_data_only_subscriptions_hear_only_of_their_partners_customers(partner, other_partner, receiver, place_order):
    own = subscribe(partner, receiver, "customer.created", "order.created", own_data_only=True)
    everything = subscribe(other_partner, receiver, "customer.created", "order.created")

    mine = api_services.partner_customer_create(partner=partner, first_name="Mine", email="mine@example.com")
    theirs = crm_services.customer_create(first_name="Theirs", email="theirs@example.com")
    place_order(mine)
    place_order(theirs)

    def seen(subscription):
        return sorted((row.event, row.payload["customer"]) for row in subscription.deliveries.all())

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
    webhooks.on_order_created(sender=None, order=place_order(customer))  # remembers "nobody subscribed"
    order = place_order(customer)
    with django_assert_num_queries(0):
        webhooks.on_order_created(sender=None, order=order)


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
    earned = [data for data in by_event["points.earned"] if data["order"] == str(order.public_id)]
    assert earned == [{"customer": str(customer.public_id), "points": 250, "source": "order", "order": str(order.public_id),
                       "created_at": earned[0]["created_at"]}]
    assert [data["code"] for data in by_event["coupon.issued"]] == [coupon.code]
    assert by_event["coupon.redeemed"][0]["customer"] == str(customer.public_id)
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
    assert payloads["survey.answered"] == {
        "survey": survey.pk, "response": response.pk, "customer": str(customer.public_id),
        "submitted_at": payloads["survey.answered"]["submitted_at"],
    }
    assert payloads["return.updated"]["return"] == str(request.public_id)
    assert payloads["return.updated"]["order"] == str(order.public_id)
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
