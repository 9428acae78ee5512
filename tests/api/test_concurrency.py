"""Real races need real transactions and a real database: PostgreSQL only."""

import threading

import pytest
from django.db import connection

from crm import services as crm_services
from crm.models import Order
from tests.api.test_orders import URL, order_body

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
