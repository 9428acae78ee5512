import pytest

from api.models import IdempotencyRecord
from crm.models import Order
from tests.api.helpers import ORDERS_URL as URL, assert_problem, order_body
from tests.factories import CustomerFactory


def test_it_creates_an_order_with_lines_and_updates_the_customer(api, customer, partner):
    response = api.post(URL, order_body(customer), format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["customer"] == str(customer.public_id) and body["currency"] == "USD"
    assert [line["sku"] for line in body["lines"]] == ["BEANS", ""] and all(line["id"] for line in body["lines"])
    assert body["source"] == f"partner:{partner.pk}"
    customer.refresh_from_db()
    assert customer.orders_count == 1 and str(customer.total_spent) == "250.00"
    assert api.get(f"{URL}{body['id']}/").json() == body


def test_the_same_idempotency_key_and_body_store_the_order_once(api, customer):
    headers = {"HTTP_IDEMPOTENCY_KEY": "order-W-1001"}
    first = api.post(URL, order_body(customer), format="json", **headers)
    second = api.post(URL, order_body(customer), format="json", **headers)
    assert first.status_code == second.status_code == 201
    assert second.json() == first.json() and second["Idempotent-Replayed"] == "true"
    assert Order.objects.count() == 1


def test_the_same_key_with_another_body_is_422(api, customer):
    headers = {"HTTP_IDEMPOTENCY_KEY": "k-1"}
    assert api.post(URL, order_body(customer), format="json", **headers).status_code == 201
    assert_problem(api.post(URL, order_body(customer, total="251.00"), format="json", **headers), 422)
    assert Order.objects.count() == 1


def test_the_same_key_while_the_first_request_runs_is_409(api, customer):
    IdempotencyRecord.objects.create(api_key=api.key, key="k-2", method="POST", path=URL,
                                     request_hash=_fingerprint(api, customer))
    assert_problem(api.post(URL, order_body(customer), format="json", HTTP_IDEMPOTENCY_KEY="k-2"), 409)
    assert not Order.objects.exists()


def _fingerprint(api, customer):
    from rest_framework.test import APIRequestFactory
    from rest_framework.parsers import JSONParser
    from rest_framework.request import Request

    from api.idempotency import request_fingerprint

    raw = APIRequestFactory().post(URL, order_body(customer), format="json")
    return request_fingerprint(Request(raw, parsers=[JSONParser()]))


def test_keys_are_per_api_key(make_client, customer):
    one, two = make_client("orders:write"), make_client("orders:write")
    assert one.post(URL, order_body(customer), format="json", HTTP_IDEMPOTENCY_KEY="same").status_code == 201
    response = two.post(URL, order_body(customer, order_number="W-2"), format="json", HTTP_IDEMPOTENCY_KEY="same")
    assert response.status_code == 201
    assert Order.objects.count() == 2


def test_a_failed_request_does_not_use_up_its_key(api, customer):
    headers = {"HTTP_IDEMPOTENCY_KEY": "k-3"}
    assert_problem(api.post(URL, order_body(customer, total="-1"), format="json", **headers), 400)
    assert api.post(URL, order_body(customer, total="-1"), format="json", **headers).status_code == 400
    assert not IdempotencyRecord.objects.exists()


@pytest.mark.parametrize("overrides, field", [
    ({"total": "1e400"}, "total"),
    ({"total": 10 ** 20}, "total"),
    ({"total": "abc"}, "total"),
    ({"placed_at": "never"}, "placed_at"),
    ({"status": "lost"}, "status"),
    ({"customer": "not-a-uuid"}, "customer"),
    ({"customer": "00000000-0000-0000-0000-000000000000"}, "customer"),
    ({"lines": [{"quantity": 0, "unit_price": "1"}]}, "lines[0].quantity"),
    ({"lines": [{"quantity": 2 ** 70, "unit_price": "1"}]}, "lines[0].quantity"),
    ({"lines": [{"unit_price": "1", "colour": "red"}]}, "lines[0].colour"),
    ({"lines": [{"unit_price": "1"}]}, "lines[0]"),
    ({"currency": "dollars"}, "currency"),
])
def test_bad_orders_are_400_problems(api, customer, overrides, field):
    body = assert_problem(api.post(URL, order_body(customer, **overrides), format="json"), 400)
    assert field in body["errors"], body
    assert not Order.objects.exists()


def test_a_duplicate_order_number_is_400(api, customer):
    assert api.post(URL, order_body(customer), format="json").status_code == 201
    assert_problem(api.post(URL, order_body(customer), format="json"), 400)


def test_orders_list_by_customer_with_constant_queries(api, customer, django_assert_num_queries):
    other = CustomerFactory()
    for n in range(3):
        api.post(URL, order_body(customer, order_number=f"A-{n}"), format="json")
    api.post(URL, order_body(other, order_number="B-1"), format="json")
    api.get(URL)
    # page, lines, call log (the key is remembered: api.keys)
    with django_assert_num_queries(3):
        rows = api.get(f"{URL}?customer={customer.public_id}").json()["results"]
    assert len(rows) == 3 and {row["customer"] for row in rows} == {str(customer.public_id)}
    with django_assert_num_queries(3):
        assert len(api.get(f"{URL}?page_size=1").json()["results"]) == 1
    assert_problem(api.get(f"{URL}?customer=nope"), 400)


def test_an_own_data_only_key_cannot_see_or_order_for_other_customers(make_client, customer):
    client = make_client("customers:read", "customers:write", "orders:write", own_data_only=True)
    order = make_client("orders:write").post(URL, order_body(customer), format="json").json()
    assert client.get(URL).json()["results"] == []
    assert_problem(client.get(f"{URL}{order['id']}/"), 404)
    body = assert_problem(client.post(URL, order_body(customer, order_number="X-9"), format="json"), 400)
    assert body["errors"]["customer"] == ["No such customer."]


def test_stored_responses_are_kept_a_day_then_purged(api, customer, time_machine):
    from datetime import timedelta

    from django.core.management import call_command
    from django.utils import timezone

    time_machine.move_to(timezone.now(), tick=False)
    headers = {"HTTP_IDEMPOTENCY_KEY": "day"}
    first = api.post(URL, order_body(customer), format="json", **headers).json()
    time_machine.shift(timedelta(hours=23))
    assert api.post(URL, order_body(customer), format="json", **headers).json() == first
    time_machine.shift(timedelta(hours=2))
    call_command("run_job", "api.purge")
    assert not IdempotencyRecord.objects.exists()


def test_an_order_is_cancelled_or_refunded_through_the_services(api, customer):
    first = api.post(URL, order_body(customer), format="json").json()
    refunded = api.post(f"{URL}{first['id']}/refund/", {"amount": "50.00"}, format="json")
    assert refunded.status_code == 200, refunded.content
    assert refunded.json()["refunded_amount"] == "50.00"
    assert "amount" in assert_problem(api.post(f"{URL}{first['id']}/refund/", {"amount": "999"}, format="json"), 400)["errors"]
    assert "status" in assert_problem(api.post(f"{URL}{first['id']}/cancel/"), 400)["errors"]  # fulfilled: refund instead
    placed = api.post(URL, order_body(customer, order_number="W-2", status="placed"), format="json").json()
    assert api.post(f"{URL}{placed['id']}/cancel/").json()["status"] == "cancelled"
    customer.refresh_from_db()
    assert customer.orders_count == 1 and str(customer.total_spent) == "200.00"


def test_unknown_endpoints_and_methods_answer_problem_details(api, customer):
    assert_problem(api.get("/api/v1/nothing-here/"), 404)
    assert_problem(api.put(f"/api/v1/customers/{customer.public_id}/", {}, format="json"), 405)
    assert_problem(api.delete(f"/api/v1/customers/{customer.public_id}/"), 405)


def test_a_crash_between_the_work_and_storing_the_response_leaves_neither(api, customer, monkeypatch):
    """The order and the stored response commit together: a retry after the crash stores the order once."""
    from api import services as api_services

    def crash(**kwargs):
        raise RuntimeError("the process died here")

    monkeypatch.setattr(api_services, "idempotency_complete", crash)
    assert_problem(api.post(URL, order_body(customer), format="json", HTTP_IDEMPOTENCY_KEY="crash"), 500)
    assert not Order.objects.exists() and not IdempotencyRecord.objects.exists()
    monkeypatch.undo()
    first = api.post(URL, order_body(customer), format="json", HTTP_IDEMPOTENCY_KEY="crash")
    again = api.post(URL, order_body(customer), format="json", HTTP_IDEMPOTENCY_KEY="crash")
    assert first.status_code == again.status_code == 201 and again.json() == first.json()
    assert Order.objects.count() == 1


def test_a_request_whose_stale_claim_was_taken_over_rolls_its_work_back(api, customer, monkeypatch):
    """When a retry took the claim over (the first request ran past API_IDEMPOTENCY_STALE_SECONDS),
    the retry does the work; the first request stores nothing and answers 409."""
    from api import services as api_services

    monkeypatch.setattr(api_services, "idempotency_complete", lambda **kwargs: False)
    assert_problem(api.post(URL, order_body(customer), format="json", HTTP_IDEMPOTENCY_KEY="late"), 409)
    assert not Order.objects.exists()


def test_a_stale_claim_is_taken_over_but_a_completed_one_is_replayed(api, customer, settings, time_machine):
    from datetime import timedelta

    from django.utils import timezone

    from api import services as api_services

    time_machine.move_to(timezone.now(), tick=False)
    claim = {"key": api.key, "idempotency_key": "k", "method": "POST", "path": URL, "request_hash": "h"}
    first, claimed = api_services.idempotency_claim(**claim)
    assert claimed
    time_machine.shift(timedelta(seconds=settings.API_IDEMPOTENCY_STALE_SECONDS + 1))
    second, claimed = api_services.idempotency_claim(**claim)
    assert claimed and second.pk == first.pk and second.created_at > first.created_at
    # The first request finishing late must not store its response over the second's claim.
    assert api_services.idempotency_complete(record=first, status_code=201, body={}) is False
    assert api_services.idempotency_complete(record=second, status_code=201, body={"id": 1}) is True
    time_machine.shift(timedelta(seconds=settings.API_IDEMPOTENCY_STALE_SECONDS + 1))
    third, claimed = api_services.idempotency_claim(**claim)
    assert not claimed and third.response_body == {"id": 1}


def test_a_discount_larger_than_the_total_is_a_400_naming_the_discount(api, customer):
    problem = assert_problem(api.post(URL, order_body(customer, total="10.00", discount="25.00"), format="json"), 400)
    assert problem["errors"] == {"discount": ['discount "25.00" is larger than the total 10.00']}
    assert not Order.objects.exists()
