"""Webhooks: the outbox rows, the signed POSTs to a real local HTTP server, retries, the sweeper, the API.

A receiver runs in a thread (http.server) and records what it gets; nothing of the HTTP layer is mocked.
"""

import hashlib
import hmac
import json
import threading
from datetime import date, timedelta
from uuid import UUID

import pytest
from django.db import connection, transaction
from django.utils import timezone

from api import services as api_services
from api import webhooks
from api.models import WebhookDelivery, WebhookSubscription
from api.tasks import deliver_webhook
from club import services as club_services
from club.models import TierChange
from config.celery import app as celery_app
from core import jobs
from crm import services as crm_services
from tests.api.conftest import assert_problem
from tests.api.webhook_helpers import _forget_connections, celery_eager, receiver, webhook_settings  # noqa: F401  (fixtures)
from tests.club.conftest import local, make_member, order_with_lines  # noqa: F401  (fixtures)
from tests.feedback.conftest import survey  # noqa: F401  (fixture)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("webhook_settings")]

Status = WebhookDelivery.Status


@pytest.fixture
def broker_down():
    """The broker is a closed port: queueing a task raises, as in a real outage. `restore()` brings it
    back (as an eager broker, so the queued tasks run here)."""
    saved = {key: celery_app.conf[key] for key in ("broker_url", "task_always_eager")}
    celery_app.conf.broker_url, celery_app.conf.task_always_eager = "redis://127.0.0.1:1/0", False
    _forget_connections()

    class Outage:
        @staticmethod
        def restore():
            celery_app.conf.update(saved)
            celery_app.conf.task_always_eager = True
            _forget_connections()

    yield Outage
    celery_app.conf.update(saved)
    _forget_connections()


def subscribe(partner, receiver, *events, own_data_only=False):
    return webhooks.webhook_subscribe(partner=partner, url=receiver.url, events=list(events), own_data_only=own_data_only)


def sweep():
    return jobs.run_job("api.webhooks_sweep")


# --- Signing and delivery --------------------------------------------------------------------------


def test_it_posts_a_signed_event_the_receiver_can_verify(partner, customer, receiver, place_order, celery_eager,
                                                        django_capture_on_commit_callbacks):
    subscription = subscribe(partner, receiver, "order.created")
    with django_capture_on_commit_callbacks(execute=True):
        order = place_order(customer, total="120.50")

    assert len(receiver.requests) == 1
    request = receiver.requests[0]
    headers, body = request["headers"], request["body"]
    timestamp = headers["X-Webhook-Timestamp"]
    expected = hmac.new(subscription.secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(headers["X-Webhook-Signature"], f"sha256={expected}")
    assert abs(int(timestamp) - timezone.now().timestamp()) < 60
    assert headers["X-Webhook-Event"] == "order.created" and headers["Content-Type"] == "application/json"
    envelope = json.loads(body)
    assert envelope["id"] == headers["X-Webhook-Id"] and envelope["event"] == "order.created"
    assert envelope["data"] == {
        "order": str(order.public_id), "order_number": order.order_number, "customer": str(customer.public_id),
        "status": order.status, "channel": order.channel, "currency": order.currency, "total": "120.50",
        "placed_at": envelope["data"]["placed_at"],
    }
    # A tampered body or another secret does not verify.
    forged = hmac.new(b"whsec_guess", f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    assert headers["X-Webhook-Signature"] != f"sha256={forged}"

    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == (Status.DELIVERED, 1, 200)
    assert delivery.delivered_at is not None and delivery.event_id == UUID(headers["X-Webhook-Id"])


def test_a_delivered_event_is_never_sent_again(partner, customer, receiver, place_order, celery_eager,
                                              django_capture_on_commit_callbacks):
    subscribe(partner, receiver, "order.created")
    with django_capture_on_commit_callbacks(execute=True):
        place_order(customer)
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == Status.DELIVERED

    # A redelivered task, a sweep, a direct attempt and staff's "retry now": nothing is sent.
    assert deliver_webhook(delivery.pk, 0) == "skipped"
    assert webhooks.delivery_attempt(delivery_id=delivery.pk) == "skipped"
    sweep()
    with django_capture_on_commit_callbacks(execute=True):
        assert webhooks.deliveries_retry(delivery_ids=[delivery.pk]) == 0
    assert len(receiver.requests) == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (Status.DELIVERED, 1)


def test_a_failing_endpoint_is_retried_with_growing_waits_then_the_delivery_fails(
    partner, customer, receiver, place_order, celery_eager, django_capture_on_commit_callbacks, time_machine,
):
    receiver.status = 503
    start = local(2026, 3, 2, 10)
    time_machine.move_to(start, tick=False)
    subscribe(partner, receiver, "order.created")
    with django_capture_on_commit_callbacks(execute=True):
        place_order(customer)

    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == (Status.PENDING, 1, 503)
    assert "HTTP 503" in delivery.last_error and "temporarily broken" in delivery.last_error
    assert delivery.next_attempt_at == start + timedelta(minutes=1)

    # Not due yet: the sweep sends nothing.
    time_machine.move_to(start + timedelta(seconds=30), tick=False)
    sweep()
    assert len(receiver.requests) == 1

    time_machine.move_to(delivery.next_attempt_at, tick=False)
    with django_capture_on_commit_callbacks(execute=True):
        sweep()
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (Status.PENDING, 2)
    assert delivery.next_attempt_at == start + timedelta(minutes=1) + timedelta(minutes=2)  # the wait doubled

    time_machine.move_to(delivery.next_attempt_at, tick=False)
    with django_capture_on_commit_callbacks(execute=True):
        sweep()
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == (Status.FAILED, 3, 503)

    time_machine.move_to(start + timedelta(days=1), tick=False)
    sweep()  # a failed delivery is not swept again
    assert len(receiver.requests) == 3
    assert len({request["headers"]["X-Webhook-Id"] for request in receiver.requests}) == 1  # the same event each time
    # Each attempt is signed with its own timestamp.
    assert len({request["headers"]["X-Webhook-Timestamp"] for request in receiver.requests}) == 3


def test_an_unreachable_endpoint_counts_as_a_failed_attempt(partner, customer, receiver, place_order, celery_eager,
                                                            django_capture_on_commit_callbacks):
    subscription = webhooks.webhook_subscribe(partner=partner, url="http://127.0.0.1:1/closed", events=["order.created"])
    with django_capture_on_commit_callbacks(execute=True):
        place_order(customer)
    delivery = WebhookDelivery.objects.get(subscription=subscription)
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == (Status.PENDING, 1, None)
    assert "ConnectionError" in delivery.last_error


def test_a_broker_outage_loses_nothing_the_sweeper_delivers_later(
    partner, customer, receiver, place_order, broker_down, django_capture_on_commit_callbacks,
):
    subscribe(partner, receiver, "order.created")
    with django_capture_on_commit_callbacks(execute=True):
        order = place_order(customer)  # the order commits although its task cannot be queued

    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts) == (Status.PENDING, 0)
    assert delivery.next_attempt_at <= timezone.now()  # due at once for the sweeper
    assert receiver.requests == []
    assert sweep() == {"queued": 0}  # still down: still pending, still due
    delivery.refresh_from_db()
    assert delivery.status == Status.PENDING and delivery.next_attempt_at <= timezone.now()

    broker_down.restore()
    with django_capture_on_commit_callbacks(execute=True):
        assert sweep() == {"queued": 1}
    delivery.refresh_from_db()
    assert delivery.status == Status.DELIVERED
    assert [body["data"]["order"] for body in receiver.bodies()] == [str(order.public_id)]


def test_the_webhook_rows_roll_back_with_the_event(partner, customer, receiver, place_order):
    subscribe(partner, receiver, "order.created")
    with pytest.raises(RuntimeError), transaction.atomic():
        place_order(customer)
        raise RuntimeError("the request fails after the order")
    assert not WebhookDelivery.objects.exists()


def test_a_late_copy_of_the_task_does_not_retry_early(partner, customer, receiver, place_order, celery_eager,
                                                      django_capture_on_commit_callbacks):
    receiver.status = 500
    subscribe(partner, receiver, "order.created")
    with django_capture_on_commit_callbacks(execute=True):
        place_order(customer)
    delivery = WebhookDelivery.objects.get()
    assert delivery.attempts == 1
    assert deliver_webhook(delivery.pk, 0) == "skipped"  # queued for attempt 0, which already happened
    assert len(receiver.requests) == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_never_send_the_same_delivery_at_once(partner, customer, receiver, place_order, broker_down):
    receiver.delay = 0.5
    subscribe(partner, receiver, "order.created")
    place_order(customer)  # committed; the broker is down, so the row waits, pending
    delivery = WebhookDelivery.objects.get()
    barrier = threading.Barrier(2)
    results = []

    def worker():
        try:
            barrier.wait()
            results.append(webhooks.delivery_attempt(delivery_id=delivery.pk))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _index in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(results) == ["delivered", "skipped"]
    assert len(receiver.requests) == 1


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


# --- Subscriptions and URLs ----------------------------------------------------------------------


def test_production_refuses_plain_http_and_private_hosts(partner, settings):
    settings.API_WEBHOOK_ALLOW_INSECURE_URLS = False
    for url in ("http://hooks.example.com/x", "https://127.0.0.1/x", "https://10.0.0.5/x", "https://localhost/x",
                "https://[::1]/x", "https://user:pw@hooks.example.com/x", "ftp://hooks.example.com/x", "not a url"):
        with pytest.raises(webhooks.ValidationError) as error:
            webhooks.webhook_subscribe(partner=partner, url=url, events=["order.created"])
        assert "url" in error.value.message_dict, url
    subscription = webhooks.webhook_subscribe(partner=partner, url="https://hooks.example.com/x", events=["order.created"])
    assert subscription.secret.startswith("whsec_") and len(subscription.secret) > 40


def test_a_partner_has_a_limited_number_of_subscriptions(partner, receiver, settings):
    settings.API_WEBHOOK_MAX_SUBSCRIPTIONS = 2
    subscribe(partner, receiver, "order.created")
    subscribe(partner, receiver, "order.created")
    with pytest.raises(webhooks.ValidationError):
        subscribe(partner, receiver, "order.created")


# --- The API -------------------------------------------------------------------------------------


def test_a_partner_subscribes_and_gets_the_secret_once(make_client, receiver, partner):
    api = make_client("customers:read", "club:read")
    response = api.post("/api/v1/webhooks/", {"url": receiver.url, "events": ["tier.changed", "customer.created"]},
                        format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    subscription = WebhookSubscription.objects.get(partner=partner)
    assert body["secret"] == subscription.secret
    assert body["id"] == str(subscription.public_id) and body["events"] == ["customer.created", "tier.changed"]
    assert body["active"] is True and body["own_data_only"] is False

    detail = api.get(f"/api/v1/webhooks/{body['id']}/").json()
    listing = api.get("/api/v1/webhooks/").json()
    assert "secret" not in detail and listing["results"] == [detail]
    assert subscription.secret not in json.dumps(listing)


def test_a_subscription_made_with_an_own_data_only_key_is_own_data_only(make_client, receiver):
    api = make_client("customers:read", own_data_only=True)
    response = api.post("/api/v1/webhooks/", {"url": receiver.url, "events": ["customer.created"]}, format="json")
    assert response.status_code == 201 and response.json()["own_data_only"] is True


def test_another_partners_subscriptions_are_invisible(make_client, other_partner, receiver):
    theirs = subscribe(other_partner, receiver, "order.created")
    api = make_client("customers:read")
    assert api.get("/api/v1/webhooks/").json()["results"] == []
    assert_problem(api.get(f"/api/v1/webhooks/{theirs.public_id}/"), 404)
    assert_problem(api.delete(f"/api/v1/webhooks/{theirs.public_id}/"), 404)
    assert_problem(api.get("/api/v1/webhooks/not-a-uuid/"), 404)
    assert WebhookSubscription.objects.filter(pk=theirs.pk).exists()


def test_a_partner_deletes_its_subscription_and_its_deliveries(api, partner, customer, receiver, place_order):
    subscription = subscribe(partner, receiver, "order.created")
    place_order(customer)
    assert api.delete(f"/api/v1/webhooks/{subscription.public_id}/").status_code == 204
    assert not WebhookSubscription.objects.exists() and not WebhookDelivery.objects.exists()
    assert_problem(api.get(f"/api/v1/webhooks/{subscription.public_id}/"), 404)


@pytest.mark.parametrize("body, field", [
    ({"url": "not a url", "events": ["order.created"]}, "url"),
    ({"url": "https://hooks.example.com/x", "events": ["order.shipped"]}, "events"),
    ({"url": "https://hooks.example.com/x", "events": []}, "events"),
    ({"url": "https://hooks.example.com/x", "events": "order.created"}, "events"),
    ({"url": "https://hooks.example.com/x"}, "events"),
    ({"events": ["order.created"]}, "url"),
    ({"url": "https://hooks.example.com/x", "events": ["order.created"], "secret": "mine"}, "secret"),
    ({"url": "https://hooks.example.com/x" + "x" * 600, "events": ["order.created"]}, "url"),
])
def test_invalid_subscriptions_are_refused_with_the_field(api, body, field):
    problem = assert_problem(api.post("/api/v1/webhooks/", body, format="json"), 400)
    assert any(name == field or name.startswith(f"{field}[") for name in problem["errors"]), problem
    assert not WebhookSubscription.objects.exists()


def test_plain_http_is_refused_in_production(api, settings):
    settings.API_WEBHOOK_ALLOW_INSECURE_URLS = False
    problem = assert_problem(api.post("/api/v1/webhooks/", {"url": "http://hooks.example.com/x", "events": ["order.created"]},
                                      format="json"), 400)
    assert problem["errors"]["url"] == ["Webhook URLs must use https://."]


def test_an_event_needs_the_scope_that_reads_its_data(make_client, receiver):
    api = make_client("coupons:redeem")
    problem = assert_problem(api.post("/api/v1/webhooks/", {"url": receiver.url, "events": ["customer.created"]},
                                      format="json"), 403)
    assert problem["scope"] == "customers:read"
    assert api.post("/api/v1/webhooks/", {"url": receiver.url, "events": ["coupon.redeemed"]}, format="json").status_code == 201
    assert api.get("/api/v1/webhooks/").status_code == 200  # managing subscriptions needs no scope


def test_the_list_runs_a_constant_number_of_queries(api, partner, receiver, django_assert_num_queries):
    subscribe(partner, receiver, "order.created")
    api.get("/api/v1/webhooks/")  # records the key's last use (once a minute)
    # The key (with its partner), the call log, the page.
    with django_assert_num_queries(3):
        assert len(api.get("/api/v1/webhooks/").json()["results"]) == 1
    for _index in range(5):
        subscribe(partner, receiver, "order.created")
    with django_assert_num_queries(3):
        assert len(api.get("/api/v1/webhooks/").json()["results"]) == 6


def test_the_schema_describes_the_webhook_endpoints():
    from rest_framework.test import APIClient

    schema = APIClient().get("/api/schema/?format=json").json()
    assert {"get", "post"} <= set(schema["paths"]["/api/v1/webhooks/"])
    assert {"get", "delete"} <= set(schema["paths"]["/api/v1/webhooks/{id}/"])
    created = schema["components"]["schemas"]["WebhookSubscriptionCreated"]["properties"]
    assert {"id", "url", "events", "secret", "own_data_only"} <= set(created)
    assert "secret" not in schema["components"]["schemas"]["WebhookSubscription"]["properties"]


def test_a_customer_created_through_the_api_reaches_the_partners_own_data_subscription(make_client, partner, receiver):
    api = make_client("customers:read", "customers:write", own_data_only=True)
    subscribe(partner, receiver, "customer.created", own_data_only=True)
    response = api.post("/api/v1/customers/", {"email": "new@example.com"}, format="json")
    assert response.status_code == 201
    assert [row.payload["customer"] for row in WebhookDelivery.objects.all()] == [response.json()["id"]]
