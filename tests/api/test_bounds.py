"""Bounds, not crashes: the largest amount and points figure are accepted, one more is a 400
naming the field and the limit before anything is written, and a database error is answered by
whose fault it is (a refused value is never "unavailable, retry")."""

from decimal import Decimal

import pytest
from django.conf import settings
from django.utils import timezone
from django.db import DataError, IntegrityError, InterfaceError, OperationalError, ProgrammingError

from club import services as club_services
from club.models import EarningRule, Membership, PointsTransaction
from core.bounds import AMOUNT_MAX, POINTS_MAX
from crm import services as crm_services
from crm.models import Customer, Order, OrderLine
from tests.api.helpers import ORDERS_URL as URL, assert_problem, order_body
from tests.conftest import is_postgres

BULK_URL = "/api/v1/orders/bulk/"
EVENTS_URL = "/api/v1/club/events/"
AT_LIMIT = "999999999999999.99"  # AMOUNT_MAX, written as a partner sends it
PAST_LIMIT = "1000000000000000.00"  # one cent more
LIMIT_MESSAGE = f"Ensure this value is less than or equal to {AT_LIMIT}."


def limit_message(field: str, value: str = PAST_LIMIT) -> str:
    """An order's amount is checked by crm's one order validator, which names the column and the
    value on every road (a file's `line N: reason` says the same)."""
    return f'{field.rsplit(".", 1)[-1]} "{value}" is larger than the limit of {AT_LIMIT}'



def one_line_order(customer, amount, **overrides):
    return order_body(customer, total=amount, lines=[{"sku": "GOLD", "quantity": 1, "unit_price": amount}], **overrides)


def written() -> dict:
    return {"orders": Order.objects.count(), "lines": OrderLine.objects.count(),
            "points": PointsTransaction.objects.count(),
            "customers": sorted(Customer.objects.values_list("pk", "orders_count", "total_spent"))}


def test_the_limit_is_the_same_number_everywhere():
    assert AMOUNT_MAX == Decimal(AT_LIMIT) and POINTS_MAX == 9223372036854775807


def stored(value) -> Decimal:
    """What the database gives back: PostgreSQL keeps every digit, SQLite (the laptop default)
    keeps 15 significant ones, so the largest amount reads back as 10^15 there."""
    return Decimal(value) if is_postgres() else Decimal(value).quantize(Decimal("1E2"))


def test_it_accepts_an_order_at_the_largest_amount_and_adds_it_to_the_customer(api, customer):
    # A Rial shop: three orders of the largest amount make a total spent far beyond 10^15.
    for number in ("R-1", "R-2", "R-3"):
        response = api.post(URL, one_line_order(customer, AT_LIMIT, order_number=number), format="json")
        assert response.status_code == 201, response.content
        body = response.json()
        assert stored(body["total"]) == stored(AT_LIMIT) and stored(body["lines"][0]["unit_price"]) == stored(AT_LIMIT)
    customer.refresh_from_db()
    assert customer.orders_count == 3
    # 3 x 999,999,999,999,999.99 = 2,999,999,999,999,999.97 by hand.
    assert stored(customer.total_spent) == stored("2999999999999999.97")
    if is_postgres():
        assert Order.objects.filter(total=Decimal(AT_LIMIT), net_total=Decimal(AT_LIMIT), is_counted=True).count() == 3


@pytest.mark.parametrize("field", ["total", "discount", "lines[0].unit_price"])
def test_one_cent_past_the_largest_amount_is_a_400_naming_the_field_and_the_limit(api, customer, field):
    body = one_line_order(customer, "10.00")
    if field == "lines[0].unit_price":
        body["lines"][0]["unit_price"] = PAST_LIMIT
    else:
        body[field] = PAST_LIMIT
    before = written()

    problem = assert_problem(api.post(URL, body, format="json"), 400)

    assert problem["errors"] == {field: [limit_message(field)]}
    assert problem["detail"] == f"{field}: {limit_message(field)}"
    assert written() == before


def test_an_absurd_amount_gets_the_same_answer_not_a_digit_count(api, customer):
    problem = assert_problem(api.post(URL, order_body(customer, total="1e400"), format="json"), 400)
    assert problem["errors"] == {"total": [limit_message("total", "1e400")]}


def test_a_bulk_batch_with_one_order_past_the_limit_names_it_and_stores_nothing(api, customer):
    before = written()
    response = api.post(BULK_URL, {"orders": [
        one_line_order(customer, AT_LIMIT, order_number="B-1"), one_line_order(customer, PAST_LIMIT, order_number="B-2"),
    ]}, format="json")

    problem = assert_problem(response, 400)
    assert problem["errors"] == [{"index": 1, "errors": {"total": [limit_message("total")],
                                                         "lines[0].unit_price": [limit_message("unit_price")]}}]
    assert written() == before


def test_a_refund_past_the_limit_is_a_400_and_leaves_the_order_alone(api, customer):
    order = api.post(URL, one_line_order(customer, AT_LIMIT), format="json").json()
    problem = assert_problem(api.post(f"{URL}{order['id']}/refund/", {"amount": PAST_LIMIT}, format="json"), 400)
    assert problem["errors"] == {"amount": [LIMIT_MESSAGE]}
    assert Order.objects.get().refunded_amount == 0

    refunded = api.post(f"{URL}{order['id']}/refund/", {"amount": AT_LIMIT}, format="json")
    assert refunded.status_code == 200, refunded.content
    assert stored(refunded.json()["refunded_amount"]) == stored(AT_LIMIT)
    if is_postgres():  # on SQLite the stored total reads back as 10^15, one cent more than was refunded
        assert refunded.json()["status"] == "refunded"


def test_a_coupon_check_past_the_limit_is_a_400(api, customer):
    problem = assert_problem(api.post("/api/v1/coupons/validate/", {"code": "NOPE", "order_value": PAST_LIMIT}, format="json"), 400)
    assert problem["errors"] == {"order_value": [LIMIT_MESSAGE]}


# --- Points: 64 bits -----------------------------------------------------------------------------


@pytest.fixture
def share_rule(db):
    return EarningRule.objects.create(name="Share", kind=EarningRule.Kind.EVENT, event_name="share", points=10)


def event(customer, reference):
    return {"customer": str(customer.public_id), "event": "share", "reference": reference}


def test_points_fill_a_balance_up_to_the_64_bit_limit_and_no_further(api, member, customer, share_rule, admin_user):
    club_services.points_adjust(member=member, points=POINTS_MAX - 10, reason="migration from the old program", by=admin_user)

    at_limit = api.post(EVENTS_URL, event(customer, "post-1"), format="json")
    assert at_limit.status_code == 200, at_limit.content
    assert at_limit.json()["balance"] == POINTS_MAX == 9223372036854775807

    before = written()
    problem = assert_problem(api.post(EVENTS_URL, event(customer, "post-2"), format="json"), 400)
    assert problem["errors"] == {"points_balance": [f"Ensure this value is less than or equal to {POINTS_MAX}."]}
    assert written() == before
    assert Membership.objects.get().points_balance == POINTS_MAX


def test_an_order_that_would_earn_past_the_limit_is_refused_whole(api, member, customer, purchase_rule):
    # 2,000,000 points per currency unit on an order of 10^13: 2 x 10^19 points, more than 2^63 - 1.
    EarningRule.objects.filter(pk=purchase_rule.pk).update(points_per_unit=Decimal("999999.99"), apply_tier_multiplier=False)
    before = written()

    placed_now = timezone.now().isoformat()
    problem = assert_problem(api.post(URL, one_line_order(customer, "10000000000000.00", placed_at=placed_now), format="json"), 400)

    assert problem["errors"] == {"points": [f"Ensure this value is less than or equal to {POINTS_MAX}."]}
    assert written() == before


# --- Database errors by whose fault they are -----------------------------------------------------


@pytest.fixture
def failing_order_create(monkeypatch):
    def fail_with(error):
        def order_create(**kwargs):
            raise error

        monkeypatch.setattr(crm_services, "order_create", order_create)

    return fail_with


def test_a_value_the_database_refuses_is_a_400_the_partner_should_not_retry(api, customer, failing_order_create):
    failing_order_create(DataError("numeric field overflow"))
    response = api.post(URL, order_body(customer), format="json")
    problem = assert_problem(response, 400)
    assert problem["type"].endswith("/value_out_of_range") and "Retry-After" not in response
    assert "numeric field overflow" in problem["detail"] and "Retry later" not in problem["detail"]


def test_a_broken_constraint_is_a_409_without_retry_after(api, customer, failing_order_create):
    failing_order_create(IntegrityError('duplicate key value violates unique constraint "crm_order_number_unique"'))
    response = api.post(URL, order_body(customer), format="json")
    assert assert_problem(response, 409)["type"].endswith("/conflict") and "Retry-After" not in response
    # A constraint's name would tell one partner what another has stored: it stays in the log.
    assert "crm_order_number_unique" not in response.content.decode() and "constraint" not in response.json()


@pytest.mark.parametrize("error", [OperationalError("server closed the connection unexpectedly"),
                                   InterfaceError("connection already closed")])
def test_only_connection_trouble_says_retry_later(api, customer, failing_order_create, error):
    failing_order_create(error)
    response = api.post(URL, order_body(customer), format="json")
    assert assert_problem(response, 503)["type"].endswith("/database_unavailable") and response["Retry-After"] == str(settings.RETRY_AFTER_SECONDS)


def test_a_database_error_of_our_own_is_a_logged_500(api, customer, failing_order_create, caplog):
    failing_order_create(ProgrammingError('relation "crm_order" does not exist'))
    response = api.post(URL, order_body(customer), format="json")
    assert assert_problem(response, 500)["type"].endswith("/server_error") and "Retry-After" not in response
    assert "crm_order" not in response.content.decode()  # logged, not told
    assert any("API database error" in record.message for record in caplog.records)


@pytest.mark.postgres
def test_a_real_overflow_on_postgresql_is_a_400_and_writes_nothing(api, member, customer, share_rule, admin_user, monkeypatch):
    """A missing check (simulated) lets a balance past 2^63 - 1 reach PostgreSQL: "bigint out of range"
    is a DataError, answered 400; the ledger row of the same transaction is rolled back."""
    club_services.points_adjust(member=member, points=POINTS_MAX - 5, reason="migration", by=admin_user)
    from club.services.points import ledger

    monkeypatch.setattr(ledger, "points_check_room", lambda member, points: None)
    before = written()

    response = api.post(EVENTS_URL, event(customer, "post-1"), format="json")

    problem = assert_problem(response, 400)
    assert problem["type"].endswith("/value_out_of_range") and "out of range" in problem["detail"]
    assert "Retry-After" not in response
    assert written() == before and Membership.objects.get().points_balance == POINTS_MAX - 5
