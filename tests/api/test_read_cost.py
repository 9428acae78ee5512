"""The partner API's reads near their bare cost (issue 17): the customer list renders from rows, a ledger page
loads only the facts its rows have, the call log is written in one statement; the answers stay exactly what
they were (the detail view and DRF's field rendering are the references)."""

import time
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from api.models import ApiCall
from api.serializers import LedgerRowSerializer
from club import services as club_services
from club.models import PointsTransaction
from crm.models import Tag
from tests.conftest import is_postgres
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

CUSTOMERS_URL = "/api/v1/customers/"


def test_the_customer_list_shows_each_customer_exactly_as_its_detail_does(api, customer):
    tagged = CustomerFactory(first_name="مریم", phone="+989121112233", birth_date="1990-02-28", orders_count=2,
                             total_spent=Decimal("1234.50"), first_order_at=timezone.now() - timedelta(days=40))
    tagged.tags.add(Tag.objects.create(name="vip"), Tag.objects.create(name="online"))
    CustomerFactory(email=None, phone=None, first_name="", external_ref="REF-ONLY")
    listed = api.get(CUSTOMERS_URL).json()["results"]
    assert len(listed) == 3
    for row in listed:
        assert row == api.get(f"{CUSTOMERS_URL}{row['id']}/").json()
    assert next(row for row in listed if row["id"] == str(tagged.public_id))["tags"] == ["online", "vip"]


def test_a_person_an_own_data_key_sees_through_its_view_is_listed_as_its_detail_shows_it(make_client, customer):
    own = make_client("customers:read", "customers:write", own_data_only=True)
    pushed = own.post(CUSTOMERS_URL, {"email": customer.email, "first_name": "S."}, format="json")
    assert pushed.status_code == 201, pushed.content
    listed = own.get(CUSTOMERS_URL).json()["results"]
    assert listed == [pushed.json()] == [own.get(f"{CUSTOMERS_URL}{pushed.json()['id']}/").json()]
    assert listed[0]["last_name"] == "" and listed[0]["phone"] is None  # what it did not send stays unseen


def test_a_filter_still_filters_and_a_page_without_one_is_every_customer(api, customer):
    other = CustomerFactory(city="Shiraz")
    assert {row["id"] for row in api.get(CUSTOMERS_URL).json()["results"]} == {str(customer.public_id), str(other.public_id)}
    assert [row["id"] for row in api.get(f"{CUSTOMERS_URL}?city=shiraz").json()["results"]] == [str(other.public_id)]
    assert api.get(f"{CUSTOMERS_URL}?lifecycle_stage=nonsense").status_code == 400


def test_the_customer_list_runs_the_same_queries_for_a_page_of_one_and_of_fifty(api, django_assert_max_num_queries):
    for number in range(12):
        CustomerFactory().tags.add(Tag.objects.get_or_create(name=f"tag{number % 3}")[0])
    api.get(CUSTOMERS_URL)
    counts = []
    for size in (1, 50):
        with django_assert_max_num_queries(50) as captured:
            assert len(api.get(f"{CUSTOMERS_URL}?page_size={size}").json()["results"]) == min(size, 12)
        counts.append(len(captured))
    assert counts[0] == counts[1]


@pytest.fixture
def ledger_of_every_kind(member, customer, offer, admin_user, place_order):
    """A member's ledger with a row of each kind of fact `description` reads: an order, an expired earning, an
    offer's coupon, an earning rule, a staff adjustment."""
    club_services.points_adjust(member=member, points=500, reason="welcome gift", by=admin_user)
    place_order(customer, total="120.00", days_ago=0.01)
    club_services.offer_redeem(member=member, offer=offer)
    earned = PointsTransaction.objects.filter(member=member, kind=PointsTransaction.Kind.EARN).first()
    PointsTransaction.objects.filter(pk=earned.pk).update(expires_at=timezone.now() - timedelta(days=2))
    club_services.points_expire_due(run_date=timezone.localdate())
    assert PointsTransaction.objects.filter(member=member, kind=PointsTransaction.Kind.EXPIRE).exists()
    return member


def test_a_ledger_page_with_every_kind_of_row_reads_as_drf_renders_it_in_constant_queries(
        api, customer, ledger_of_every_kind, django_assert_max_num_queries):
    url = f"/api/v1/club/members/{customer.public_id}/ledger/"
    api.get(url)
    counts = []
    for size in (1, 50):
        with django_assert_max_num_queries(50) as captured:
            rows = api.get(f"{url}?page_size={size}").json()["results"]
        counts.append(len(captured))
    # the page and the call log, and one query per kind of fact the page holds: the newest row (an expiry) its
    # original; all of them orders (with their customers), earning rules, originals, coupons (with their offers)
    assert counts == [3, 6]
    expected = [LedgerRowSerializer().to_representation_by_fields(row) for row in
                PointsTransaction.objects.filter(member=ledger_of_every_kind).with_facts().order_by("-created_at", "-id")]
    assert rows == [{**row, "id": str(row["id"]), "order": str(row["order"]) if row["order"] else None} for row in expected]
    assert all(row["reason"] for row in rows)


def test_an_own_data_key_reads_a_shared_members_ledger_as_a_full_key_does(api, make_client, partner, customer,
                                                                           ledger_of_every_kind):
    from api import services as api_services

    url = f"/api/v1/club/members/{customer.public_id}/ledger/"
    api_services.partner_customer_share(partner=partner, customer=customer)
    own = make_client("club:read", own_data_only=True)
    for size in (2, 50):
        assert own.get(f"{url}?page_size={size}").json() == api.get(f"{url}?page_size={size}").json()


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(not is_postgres(), reason="needs PostgreSQL: set DATABASE_URL=postgres://... (see README)")
def test_a_call_outside_any_transaction_is_logged_in_one_statement_that_does_not_wait_for_the_disk(make_client):
    client = make_client("customers:read")
    statements = []

    def watch(execute, sql, params, many, context):
        statements.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(watch):
        assert client.get(CUSTOMERS_URL).status_code == 200
    logged = [sql for sql in statements if "api_apicall" in sql]
    assert len(logged) == 1 and logged[0].startswith("SET LOCAL synchronous_commit TO OFF; INSERT")
    call = ApiCall.objects.get(key_prefix=client.key.prefix)
    assert (call.method, call.path, call.status, call.partner_id) == ("GET", CUSTOMERS_URL, 200, client.key.partner_id)
    with connection.cursor() as cursor:  # the setting was the insert's only
        cursor.execute("SHOW synchronous_commit")
        assert cursor.fetchone()[0] == "on"


def test_the_order_list_shows_each_order_exactly_as_its_detail_does(api, customer, place_order):
    from crm.services import LineInput

    place_order(customer, total="12.50", discount="0.50", lines=[
        LineInput(sku="A", product_name="قهوه", category="coffee", quantity=2, unit_price="6.25"),
        LineInput(sku="B", product_name="Mug", category="cups", quantity=1, unit_price="0.50")])
    place_order(customer, total="5.00")
    listed = api.get("/api/v1/orders/").json()["results"]
    assert len(listed) == 2 and [len(order["lines"]) for order in listed] == [0, 2]
    for order in listed:
        assert order == api.get(f"/api/v1/orders/{order['id']}/").json()
    assert [line["sku"] for line in listed[1]["lines"]] == ["A", "B"]


@pytest.mark.parametrize("zone", ["UTC", "Asia/Tehran"])
def test_the_order_page_rendered_from_rows_is_drfs_own_field_by_field(customer, place_order, zone):
    from zoneinfo import ZoneInfo

    from api.serializers import OrderSerializer
    from api.serializers.orders import order_rows
    from crm.models import Order
    from crm.services import LineInput

    place_order(customer, total="1234567.05", discount="0.50", lines=[
        LineInput(sku="A", product_name="قهوه", category="coffee", quantity=2, unit_price="6.25"),
        LineInput(sku="", product_name="Mug", category="", quantity=1, unit_price="0")])
    place_order(customer, total="0", status="refunded")
    orders = Order.objects.with_customer_public_id().prefetch_related("lines").order_by("-id")
    with timezone.override(ZoneInfo(zone)):
        page = OrderSerializer.render_page(order_rows(Order.objects.order_by("-id")))
        assert page == [OrderSerializer().to_representation_by_fields(order) for order in orders]


@pytest.mark.parametrize("text", ["0.00", "-0.00", "12.50", "1", "1.5", "1.234", "12.345", "0E-2", "1E+2", "1.00E+3",
                                  "-7.10", "9999999999999999.99", "99999999999999999.99", "999999999999999999999.99"])
def test_money_reads_as_drfs_decimal_field_gives_it(text):
    from rest_framework import serializers

    from api.serializers.base import money_text
    from core.bounds import MONEY, MONEY_SUM

    for money in (MONEY, MONEY_SUM):
        field = serializers.DecimalField(**money)
        try:
            expected = field.to_representation(Decimal(text))
        except ArithmeticError as error:
            with pytest.raises(type(error)):
                money_text(Decimal(text), field)
        else:
            assert money_text(Decimal(text), field) == expected


def test_a_row_reads_its_columns_as_attributes_and_items_and_refuses_the_others():
    from core.value_rows import Row

    row = Row({"id": 7, "total": Decimal("1.00")}, phone=None)
    assert (row.id, row["total"], row.phone, row.get("partner_view")) == (7, Decimal("1.00"), None, None)
    assert getattr(row, "partner_linked_at", "absent") == "absent"
    with pytest.raises(AttributeError):
        row.name


def test_an_own_data_key_lists_only_its_own_orders_of_a_person_it_sees_through_its_view(make_client, customer, place_order):
    place_order(customer, total="99.00")  # stored by someone else
    own = make_client("customers:read", "customers:write", "orders:write", own_data_only=True)
    pushed = own.post(CUSTOMERS_URL, {"email": customer.email}, format="json").json()
    sent = own.post("/api/v1/orders/", {"customer": pushed["id"], "order_number": "OWN-1", "total": "10.00",
                                        "placed_at": timezone.now().isoformat()}, format="json")
    assert sent.status_code == 201, sent.content
    assert [order["order_number"] for order in own.get("/api/v1/orders/").json()["results"]] == ["OWN-1"]


def test_the_rate_limit_keeps_its_history_as_an_array_and_reads_a_list_an_older_process_stored(api, settings):
    from array import array

    from django.core.cache import cache

    from api.throttling import ApiKeyRateThrottle

    settings.API_RATE_LIMIT = "3/min"
    cache_key = ApiKeyRateThrottle.cache_format % {"scope": ApiKeyRateThrottle.scope, "ident": api.key.pk}
    cache.set(cache_key, [time.time() - 1], 60)  # as DRF's own throttle stores it
    assert api.get(CUSTOMERS_URL).status_code == 200
    history = cache.get(cache_key)
    assert isinstance(history, array) and len(history) == 2 and history[0] > history[1]
    assert api.get(CUSTOMERS_URL).status_code == 200
    response = api.get(CUSTOMERS_URL)
    assert response.status_code == 429 and 1 <= int(response["Retry-After"]) <= 60
    assert len(cache.get(cache_key)) == 3
