"""One row per finding of issue 16 ("Found"), each asserting today's answer (status and shape), so none
can come back. Findings that need more than one request are pinned where they are tested in depth:

- segment rules with a day count of 10^12 or a NUL byte (admin preview, `segment_create`):
  tests/campaigns/test_rule_limits.py;
- a NUL byte in a CSV cell (admin imports, commands: `line N: reason`): tests/crm/test_import_hostile.py;
- /health/ answering 200 without its database, public pages a bare 500: tests/test_health.py
  (test_it_is_not_ready_without_the_database_and_says_nothing_of_the_error) and tests/core/test_error_pages.py;
- `coupons/validate/` telling `not_yours` from `unknown`: tests/api/test_no_disclosure.py
  (test_it_answers_another_customers_coupon_exactly_like_a_code_that_does_not_exist), and for people seen
  through a view, test_a_person_seen_through_a_view_owns_no_coupon_for_the_key there;
- "new" and "existing elsewhere" told apart by POST customers/: tests/api/test_no_disclosure.py
  (test_it_answers_a_person_who_exists_elsewhere_exactly_like_a_new_one); one row below pins the constraint name;
- requests without a key or with a wrong one never throttled: tests/api/test_auth_throttling.py;
- `make run` hanging on SIGTERM: tests/integration/test_run_stops.py; the django-axes banner on every command:
  tests/test_settings.py (test_it_prints_no_library_banner_on_command_output).
"""

import json
from dataclasses import dataclass, field
from typing import Callable

import pytest

from api.models import ApiCall
from crm import services as crm_services
from crm.models import Customer, Order
from tests.api.helpers import ORDERS_URL, order_body

CUSTOMERS_URL = "/api/v1/customers/"
PROBLEM = "application/problem+json"


@dataclass(frozen=True)
class Finding:
    name: str
    send: Callable  # (clients, customer) -> response
    status: int
    problem: str | None = None  # the end of the problem's `type`, or None for a success
    errors: tuple[str, ...] = ()  # the fields the problem names
    check: Callable = field(default=lambda response, customer: None)


def _json(client, method, url, body):
    return client.generic(method, url, json.dumps(body), content_type="application/json")


def _no_order_written(response, customer):
    assert not Order.objects.exists()


def _stored_name_without_bidi(response, customer):
    assert response.json()["first_name"] == "Sara"
    assert Customer.objects.get(public_id=response.json()["id"]).first_name == "Sara"


def _no_constraint_named(response, customer):
    assert "crm_customer" not in response.content.decode()
    assert response.json()["email"] == customer.email and response.json()["city"] == ""


def _logged_escaped(path):
    def check(response, customer):
        assert ApiCall.objects.filter(path=path, status=response.status_code).exists()
    return check


def _logged_method(response, customer):
    call = ApiCall.objects.get(status=response.status_code)
    assert call.method == ("X" * 200)[:ApiCall._meta.get_field("method").max_length]


FINDINGS = [
    # Bad data answered as an outage (503 "retry later"): the caller's fault, a 400 naming the field.
    Finding("odd UTC offset in placed_since", lambda c, x: c["all"].get(ORDERS_URL, {"placed_since": "0094-05-24T03:43:27+18:26"}),
            400, "validation", ("placed_since",)),
    Finding("a total that overflows its column",
            lambda c, x: _json(c["all"], "POST", ORDERS_URL, order_body(x, total="1" + "0" * 30, lines=[])),
            400, None, ("total",), _no_order_written),
    # 500 where a 4xx belongs.
    Finding("JSON nested 100,000 deep", lambda c, x: c["all"].generic(
        "POST", CUSTOMERS_URL, "[" * 100_000 + "]" * 100_000, content_type="application/json"), 400, "parse_error"),
    Finding("a 3 MB body", lambda c, x: _json(c["all"], "POST", CUSTOMERS_URL, {"first_name": "a" * 3_000_000}),
            413, "body_too_large"),
    Finding("a forged pagination cursor", lambda c, x: c["all"].get(CUSTOMERS_URL, {"cursor": "cD0xMjM0NTY3ODkwMTIzNDU2Nzg5MDEyMzQ1Njc4OTA="}),
            400, "validation", ("cursor",)),
    Finding("unformatted placeholder in 405", lambda c, x: c["all"].put(CUSTOMERS_URL, {}, format="json"), 405, None, (),
            lambda response, customer: (response.json()["detail"] == 'Method "PUT" not allowed.') or pytest.fail(response.json())),
    Finding("unformatted placeholder in 415", lambda c, x: c["all"].generic("POST", CUSTOMERS_URL, "x", content_type="text/plain"),
            415, None, (), lambda response, customer: ("{" not in response.json()["detail"]) or pytest.fail(response.json())),
    # Oracles for own-data-only keys: an existing email answers as a new person would, naming no constraint.
    Finding("an email that exists elsewhere", lambda c, x: _json(c["own"], "POST", CUSTOMERS_URL, {"email": x.email}),
            201, None, (), _no_constraint_named),
    # Small gaps.
    Finding("a discount larger than the total",
            lambda c, x: _json(c["all"], "POST", ORDERS_URL, order_body(x, discount="300.00")), 400, None, ("discount",),
            _no_order_written),
    Finding("a birth date in year 1", lambda c, x: _json(c["all"], "POST", CUSTOMERS_URL, {"email": "y1@example.com", "birth_date": "0001-01-01"}),
            400, "validation", ("birth_date",)),
    Finding("a birth date in 2999", lambda c, x: _json(c["all"], "POST", CUSTOMERS_URL, {"email": "y2999@example.com", "birth_date": "2999-01-01"}),
            400, "validation", ("birth_date",)),
    Finding("a phone extension", lambda c, x: _json(c["all"], "POST", CUSTOMERS_URL, {"email": "ext@example.com", "phone": "+989121112233 ext. 12"}),
            400, "validation", ("phone",)),
    Finding("a right-to-left override in a name",
            lambda c, x: _json(c["all"], "POST", CUSTOMERS_URL, {"email": "rlo@example.com", "first_name": "\u202eSara\u202c"}),
            201, None, (), _stored_name_without_bidi),
    Finding("%00 in the path reaches the call log", lambda c, x: c["all"].get("/api/v1/customers/%00/"), 404, "not_found", (),
            _logged_escaped("/api/v1/customers/%00/")),
    Finding("control characters in the path are escaped in the call log", lambda c, x: c["all"].get("/api/v1/customers/a%0Ab%1B/"),
            404, "not_found", (), _logged_escaped("/api/v1/customers/a%0Ab%1B/")),
    Finding("an over-long method reaches the call log", lambda c, x: c["all"].generic("X" * 200, CUSTOMERS_URL), 405, None, (),
            _logged_method),
]


@pytest.mark.parametrize("finding", FINDINGS, ids=[finding.name for finding in FINDINGS])
def test_it_answers_each_finding_of_issue_16_truthfully(finding, make_client, db):
    customer = crm_services.customer_create(first_name="Parisa", email="parisa@example.com")
    clients = {"all": make_client(), "own": make_client("customers:read", "customers:write", own_data_only=True)}
    ApiCall.objects.all().delete()

    response = finding.send(clients, customer)

    assert response.status_code == finding.status, response.content[:500]
    if finding.status >= 400:
        assert response["Content-Type"].startswith(PROBLEM)
        body = response.json()
        assert body["status"] == finding.status and body["title"] and body["detail"]
        assert "Retry-After" not in response  # never "retry" for bad data
        if finding.problem:
            assert body["type"].endswith(f"/{finding.problem}"), body
        for name in finding.errors:
            assert name in body.get("errors", {}), body
    finding.check(response, customer)


def test_every_503_for_an_unreachable_database_says_the_same_retry_after(settings, monkeypatch, db):
    """One setting (RETRY_AFTER_SECONDS) for the API, the public pages and the readiness check: once 60, 10 and 5."""
    import api.middleware
    import config.health
    from club import views_card
    from django.db import OperationalError
    from django.test import Client

    def unreachable(*args, **kwargs):
        raise OperationalError("could not connect to server")

    settings.RETRY_AFTER_SECONDS = 7
    client = Client(raise_request_exception=False)
    monkeypatch.setattr(api.middleware, "_storable", unreachable)
    monkeypatch.setattr(views_card, "_member_or_404", unreachable)
    monkeypatch.setitem(config.health.READINESS_CHECKS, "database", lambda: "unreachable")

    answers = [client.get("/api/v1/orders/"), client.get("/m/some-token-that-is-never-read/"), client.get("/health/ready/")]
    assert [(answer.status_code, answer["Retry-After"]) for answer in answers] == [(503, "7")] * 3
