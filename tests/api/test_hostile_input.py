"""Hostile input is the caller's fault, answered before any work starts (issue 16): a date filter
the database cannot compare with, a body nested or sized past the limits, a forged cursor, a page
size out of range are each a 4xx problem naming what is wrong, never a 500 or "retry later"; a 500
carries the request id its log line carries."""

import json

import pytest

from crm import services as crm_services
from crm.models import Customer
from tests.api.helpers import ORDERS_URL, assert_problem, order_body

CUSTOMERS_URL = "/api/v1/customers/"


@pytest.mark.parametrize("value", [
    "0094-05-24T03:43:27+18:26",  # the finding: an offset PostgreSQL refuses, answered as 503
    "2020-01-01T00:00:00+14:01",
    "0001-01-01T00:00:00+05:00",  # before year 1 once read in UTC
    "9999-12-31T23:59:59-05:00",  # after year 9999 once read in UTC
    "2020-01-01T00:00:00+99:00",
    "0000-01-01T00:00:00Z",
    "not a date",
])
@pytest.mark.parametrize("url, parameter", [(ORDERS_URL, "placed_since"), (CUSTOMERS_URL, "updated_since")])
def test_it_answers_a_date_filter_out_of_range_with_a_400_naming_the_parameter(api, url, parameter, value):
    body = assert_problem(api.get(url, {parameter: value}), 400)
    assert list(body["errors"]) == [parameter]


@pytest.mark.parametrize("value", ["2020-01-01T00:00:00+14:00", "0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z"])
def test_it_accepts_a_date_filter_at_the_edges(api, value):
    assert api.get(ORDERS_URL, {"placed_since": value}).status_code == 200


def nested(levels: int) -> str:
    return "[" * levels + "]" * levels


@pytest.mark.parametrize("levels", [65, 1_000, 100_000])
def test_it_refuses_a_json_body_nested_too_deeply_with_a_400(api, levels):
    response = api.generic("POST", CUSTOMERS_URL, nested(levels), content_type="application/json")
    assert "64 levels" in assert_problem(response, 400)["detail"]
    assert not Customer.objects.exists()


def test_it_reads_a_body_nested_up_to_the_limit(api):
    body = {"first_name": "Sara", "email": "sara@example.com", "tags": ["a"]}
    assert api.post(CUSTOMERS_URL, body, format="json").status_code == 201
    # 64 levels is parsed, then refused by the serializer as an ordinary field error
    response = api.generic("POST", CUSTOMERS_URL, nested(64), content_type="application/json")
    assert "64 levels" not in assert_problem(response, 400)["detail"]


def test_it_refuses_a_body_larger_than_the_limit_with_a_413_before_reading_it(api, settings):
    body = json.dumps({"first_name": "a" * 3_000_000})
    response = api.generic("POST", CUSTOMERS_URL, body, content_type="application/json")
    problem = assert_problem(response, 413)
    assert str(settings.DATA_UPLOAD_MAX_MEMORY_SIZE) in problem["detail"]
    assert not Customer.objects.exists()


@pytest.mark.parametrize("cursor", [
    "garbage", "!!!", "cD0=",  # p= empty
    "cD0xMjM0NTY3ODkwMTIzNDU2Nzg5MDEyMzQ1Njc4OTA=",  # p= past 64 bits
    "bz0tMQ==",  # o=-1
    "cj0y",  # r=2
    "eD0x",  # x=1
])
def test_it_refuses_a_forged_cursor_with_a_400_naming_it(api, customer, cursor):
    assert list(assert_problem(api.get(CUSTOMERS_URL, {"cursor": cursor}), 400)["errors"]) == ["cursor"]


def test_it_refuses_a_forged_cursor_on_a_date_ordering(api, customer):
    url = f"{CUSTOMERS_URL}{customer.public_id}/interactions/"
    for forged in ("cD1ub3QtYS1kYXRl", "cD0wMDAxLTAxLTAxIDAwOjAwOjAwKzA1OjAw"):  # p=not-a-date, p=year 1 +05:00
        assert list(assert_problem(api.get(url, {"cursor": forged}), 400)["errors"]) == ["cursor"]


def test_it_follows_its_own_cursors(api):
    for n in range(3):
        api.post(CUSTOMERS_URL, {"first_name": f"C{n}", "email": f"c{n}@example.com"}, format="json")
    page = api.get(CUSTOMERS_URL, {"page_size": 2}).json()
    assert len(page["results"]) == 2
    assert len(api.get(page["next"]).json()["results"]) == 1


@pytest.mark.parametrize("size", ["0", "-1", "201", "99999999999999999999999", "abc"])
def test_it_refuses_a_page_size_out_of_range_with_a_400(api, size):
    body = assert_problem(api.get(CUSTOMERS_URL, {"page_size": size}), 400)
    assert body["errors"] == {"page_size": ["Enter a whole number from 1 to 200."]}


def test_problem_titles_have_no_placeholders(api):
    not_allowed = assert_problem(api.put(CUSTOMERS_URL, {}, format="json"), 405)
    assert not_allowed["title"] == "Method not allowed." and not_allowed["detail"] == 'Method "PUT" not allowed.'
    unsupported = assert_problem(api.generic("POST", CUSTOMERS_URL, "x", content_type="text/plain"), 415)
    assert unsupported["title"] == "Unsupported media type." and "text/plain" in unsupported["detail"]


def test_a_500_carries_the_request_id_of_its_log_line(api, customer, monkeypatch, caplog):
    def order_create(**kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(crm_services, "order_create", order_create)
    response = api.post(ORDERS_URL, order_body(customer), format="json", HTTP_X_REQUEST_ID="lb-req-12345678")
    body = assert_problem(response, 500)
    assert body["request_id"] == "lb-req-12345678" == response["X-Request-ID"]
    assert "a bug" not in response.content.decode()
    logged = [record for record in caplog.records if record.getMessage() == "Unhandled API error"]
    assert logged and logged[0].request_id == "lb-req-12345678"


def test_a_request_id_that_is_not_a_plain_token_is_replaced(api):
    response = api.get(CUSTOMERS_URL, HTTP_X_REQUEST_ID="bad id\nforged log line")
    assert response["X-Request-ID"] != "bad id\nforged log line" and len(response["X-Request-ID"]) == 32


@pytest.mark.parametrize("field", ["status", "channel"])
@pytest.mark.parametrize("value", [{"a": 1}, ["fulfilled"]])
@pytest.mark.parametrize("bulk", [False, True], ids=["one", "bulk"])
def test_it_refuses_an_object_or_a_list_as_an_order_choice_with_a_400_naming_the_field(api, customer, field, value, bulk):
    """Found by schemathesis: `"status": {...}` in a bulk order was a 500 (the choice field had no
    message for a value that is not a string)."""
    body = order_body(customer, **{field: value})
    response = api.post(ORDERS_URL + ("bulk/" if bulk else ""), {"orders": [body]} if bulk else body, format="json")
    problem = assert_problem(response, 400)
    assert f'"{field}"' in json.dumps(problem["errors"]), problem
    assert not Customer.objects.get(pk=customer.pk).orders.exists()


@pytest.mark.parametrize("method", ["post", "patch", "delete"])
def test_it_answers_a_write_to_an_unknown_api_path_with_a_404_problem(api, method):
    """Found by schemathesis: POST /api/v1/customers/.<junk>/interactions/ met the CSRF check's HTML 403."""
    response = getattr(api, method)("/api/v1/customers/.\U000c0f42x/interactions/", {"subject": "x"}, format="json")
    assert_problem(response, 404)
