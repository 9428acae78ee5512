"""Webhook delivery: signed POSTs to a real local HTTP server, retries, the sweeper, one attempt at a time.

A receiver runs in a thread (http.server) and records what it gets; nothing of the HTTP layer is mocked.
"""

import hashlib
import hmac
import json
import threading
from datetime import timedelta
from uuid import UUID

import pytest
from django.db import connection, transaction
from django.utils import timezone

from api import webhooks
from api.models import WebhookDelivery, WebhookDeliveryAttempt
from api.serializers import OrderSerializer
from api.tasks import deliver_webhook
from crm.models import Order
from tests.api.webhook_helpers import subscribe, sweep
from tests.helpers import local

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("webhook_settings")]

Status = WebhookDelivery.Status


# --- Signing and delivery --------------------------------------------------------------------------


@pytest.mark.parametrize("render_in_worker_at", [200, 1], ids=["rendered-with-the-order", "rendered-by-the-worker"])


def test_it_posts_a_signed_event_the_receiver_can_verify(partner, customer, receiver, place_order, celery_eager,
                                                        django_capture_on_commit_callbacks, settings, render_in_worker_at):
    settings.API_WEBHOOK_RENDER_IN_WORKER_AT = render_in_worker_at
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
    # The data is what GET orders/{id}/ shows.
    assert envelope["data"] == json.loads(json.dumps(OrderSerializer(Order.objects.get(pk=order.pk)).data))
    assert envelope["data"]["id"] == str(order.public_id) and envelope["data"]["total"] == "120.50"
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
    assert [body["data"]["id"] for body in receiver.bodies()] == [str(order.public_id)]


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


# --- The address that was checked is the address called (DNS rebinding) ---------------------------


@pytest.fixture
def flipping_dns(monkeypatch):
    """hooks.example.com resolves to a public address once, then to a private one (a rebinding
    attack); `connections` records where sockets were really opened (and refuses them)."""
    import socket

    from urllib3.util import connection as urllib3_connection

    real_getaddrinfo = socket.getaddrinfo
    answers = iter(["93.184.216.34"])
    connections = []

    def getaddrinfo(host, port, *args, **kwargs):
        if host == "hooks.example.com":
            address = next(answers, "10.0.0.5")
            return [(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (address, port or 443))]
        return real_getaddrinfo(host, port, *args, **kwargs)

    def create_connection(address, *args, **kwargs):
        connections.append(address)
        raise ConnectionRefusedError("refused by the test")

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(urllib3_connection, "create_connection", create_connection)
    return connections


def test_a_second_dns_answer_cannot_redirect_the_delivery(partner, customer, place_order, settings, flipping_dns,
                                                          celery_eager, django_capture_on_commit_callbacks):
    settings.API_WEBHOOK_ALLOW_INSECURE_URLS = False
    webhooks.webhook_subscribe(partner=partner, url="https://hooks.example.com/x", events=["order.created"])
    with django_capture_on_commit_callbacks(execute=True):
        place_order(customer)

    assert flipping_dns == [("93.184.216.34", 443)]  # the checked address, never the private one
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts) == (Status.PENDING, 1)
    assert "ConnectionError" in delivery.last_error

    # The next attempt resolves again, gets the private address, and refuses before connecting.
    assert webhooks.delivery_attempt(delivery_id=delivery.pk) == Status.PENDING
    delivery.refresh_from_db()
    assert delivery.last_error == "The URL's host resolves to a private address."
    assert flipping_dns == [("93.184.216.34", 443)]


def test_the_pinned_connection_verifies_the_certificate_for_the_host_name():
    from api.webhooks.delivery import pinned_pool
    from api.webhooks.subscriptions import Destination

    destination = Destination(scheme="https", host="hooks.example.com", port=8443, address="93.184.216.34",
                              target="/x?a=1", host_header="hooks.example.com:8443")
    with pinned_pool(destination, timeout=1) as pool:
        assert (pool.host, pool.port) == ("93.184.216.34", 8443)
        assert pool.conn_kw["server_hostname"] == "hooks.example.com"  # TLS SNI
        assert pool.assert_hostname == "hooks.example.com" and pool.cert_reqs == "CERT_REQUIRED"


def test_the_request_carries_the_original_host_and_is_not_redirected(partner, customer, receiver, place_order, celery_eager,
                                                                     django_capture_on_commit_callbacks, monkeypatch):
    import socket

    real_getaddrinfo = socket.getaddrinfo
    # The receiver listens on IPv4 only; some hosts resolve localhost to ::1 first.
    monkeypatch.setattr(socket, "getaddrinfo", lambda host, *args, **kwargs: real_getaddrinfo(
        "127.0.0.1" if host == "localhost" else host, *args, **kwargs))
    port = receiver.url.split(":")[2].split("/")[0]
    webhooks.webhook_subscribe(partner=partner, url=f"http://localhost:{port}/hooks?tenant=7", events=["order.created"])
    receiver.status = 302
    with django_capture_on_commit_callbacks(execute=True):
        place_order(customer)
    request = receiver.requests[0]
    assert request["headers"]["Host"] == f"localhost:{port}" and request["path"] == "/hooks?tenant=7"
    assert len(receiver.requests) == 1  # a redirect is a failed attempt, not followed
    assert WebhookDelivery.objects.get().last_status_code == 302


# --- One row per attempt ---------------------------------------------------------------------------


def test_each_attempt_is_recorded_with_its_answer(partner, customer, receiver, place_order, celery_eager,
                                                  django_capture_on_commit_callbacks):
    receiver.status = 503
    subscribe(partner, receiver, "order.created")
    with django_capture_on_commit_callbacks(execute=True):
        place_order(customer)
    delivery = WebhookDelivery.objects.get()
    receiver.status = 200
    assert webhooks.delivery_attempt(delivery_id=delivery.pk) == Status.DELIVERED

    first, second = WebhookDeliveryAttempt.objects.filter(delivery=delivery).order_by("number")
    assert (first.number, first.status_code, first.response_excerpt) == (1, 503, "temporarily broken")
    assert first.error == "HTTP 503: temporarily broken" and first.duration_ms >= 0 and first.started_at
    assert (second.number, second.status_code, second.error, second.response_excerpt) == (2, 200, "", "{}")


def test_a_long_answer_is_cut_to_the_bound(partner, customer, place_order, monkeypatch):
    from api.webhooks import delivery as delivery_module

    subscription = webhooks.webhook_subscribe(partner=partner, url="http://127.0.0.1:1/x", events=["order.created"])
    place_order(customer)
    delivery = WebhookDelivery.objects.get(subscription=subscription)
    monkeypatch.setattr(delivery_module, "delivery_post", lambda **kwargs: delivery_module.Outcome(500, "x" * 5000, "y" * 5000))
    webhooks.delivery_attempt(delivery_id=delivery.pk)
    attempt = WebhookDeliveryAttempt.objects.get()
    assert len(attempt.error) == len(attempt.response_excerpt) == WebhookDeliveryAttempt.TEXT_LIMIT


def test_the_purge_removes_the_attempts_with_their_delivery(partner, customer, receiver, place_order, celery_eager,
                                                            django_capture_on_commit_callbacks, time_machine):
    from core import jobs

    time_machine.move_to(local(2026, 1, 1, 12), tick=False)
    subscribe(partner, receiver, "order.created")
    with django_capture_on_commit_callbacks(execute=True):
        place_order(customer)
    assert WebhookDeliveryAttempt.objects.count() == 1
    time_machine.move_to(local(2026, 2, 15, 12), tick=False)
    assert jobs.run_job("api.purge")["webhook_deliveries"] == 1
    assert not WebhookDeliveryAttempt.objects.exists()
