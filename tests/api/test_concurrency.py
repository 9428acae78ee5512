"""Real races need real transactions and a real database: PostgreSQL only."""

import threading

import pytest
from django.db import connection
from rest_framework.test import APIClient

from api.models import IdempotencyRecord
from crm import services as crm_services
from crm.models import Order
from tests.api.helpers import ORDERS_URL as URL, order_body

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_a_retry_while_the_first_order_is_being_stored_gets_409_and_one_order(make_client, customer, monkeypatch):
    api = make_client("orders:write")
    started, release = threading.Event(), threading.Event()
    real_create = crm_services.order_create

    def slow_create(**kwargs):
        started.set()
        release.wait(10)
        return real_create(**kwargs)

    monkeypatch.setattr(crm_services, "order_create", slow_create)
    results = {}

    def first():
        try:
            results["first"] = api.post(URL, order_body(customer), format="json", HTTP_IDEMPOTENCY_KEY="race")
        finally:
            connection.close()

    thread = threading.Thread(target=first)
    thread.start()
    assert started.wait(10)
    second = api.post(URL, order_body(customer), format="json", HTTP_IDEMPOTENCY_KEY="race")
    release.set()
    thread.join(10)
    assert second.status_code == 409, second.content
    assert results["first"].status_code == 201
    third = api.post(URL, order_body(customer), format="json", HTTP_IDEMPOTENCY_KEY="race")
    assert third.status_code == 201 and third.json() == results["first"].json()
    assert Order.objects.count() == 1


def test_parallel_retries_with_one_idempotency_key_store_the_order_once(make_client, customer):
    """15 clients post the same order with the same key at the same moment: one does the work,
    every other gets 409 (still running) or the first response replayed."""
    api = make_client("orders:write")
    threads_count = 15
    barrier = threading.Barrier(threads_count)
    responses = [None] * threads_count

    def post(slot):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Api-Key {api.secret}")
        try:
            barrier.wait(10)
            responses[slot] = client.post(URL, order_body(customer), format="json", HTTP_IDEMPOTENCY_KEY="stampede")
        finally:
            connection.close()

    threads = [threading.Thread(target=post, args=(slot,)) for slot in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert all(response is not None for response in responses)
    assert Order.objects.count() == 1
    statuses = sorted(response.status_code for response in responses)
    assert set(statuses) <= {201, 409}, [response.content for response in responses]
    created = [response for response in responses if response.status_code == 201]
    first = [response for response in created if response.get("Idempotent-Replayed") != "true"]
    assert len(first) == 1
    order = Order.objects.get()
    assert all(response.json()["id"] == str(order.public_id) for response in created)
    replay = api.post(URL, order_body(customer), format="json", HTTP_IDEMPOTENCY_KEY="stampede")
    assert replay.status_code == 201 and replay.json() == first[0].json()


def test_a_crash_after_the_work_commits_neither_the_order_nor_the_response(make_client, customer, monkeypatch):
    """With real transactions: the work and the stored response are one commit."""
    from api import services as api_services

    api = make_client("orders:write")

    def crash(**kwargs):
        raise RuntimeError("the process died here")

    monkeypatch.setattr(api_services, "idempotency_complete", crash)
    assert api.post(URL, order_body(customer), format="json", HTTP_IDEMPOTENCY_KEY="crash").status_code == 500
    assert not Order.objects.exists() and not IdempotencyRecord.objects.exists()
    monkeypatch.undo()
    assert api.post(URL, order_body(customer), format="json", HTTP_IDEMPOTENCY_KEY="crash").status_code == 201
    assert Order.objects.count() == 1
