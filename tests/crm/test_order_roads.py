"""Every road an order arrives by ends in the same place (crm.services.orders_create, or the
staged importer's orders_announce): the same orders sent by the API one at a time, by the API's
bulk call, by `import_orders` and by the admin's import leave the same club ledger, balances,
tiers, campaign conversions and webhook outbox. Only what differs by nature (ids, public ids, the
order's `source`, timestamps) is left out of the comparison."""

import csv
import io
import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from api.models import WebhookDelivery
from campaigns.models import Message
from club import services as club_services
from club.models import Membership, PointsTransaction, TierChange
from config.celery import app as celery_app
from crm.importing import LINE_COLUMNS, ORDER_COLUMNS, ImportFailed, import_orders
from crm.importing.common import ImportResult
from crm.models import Customer, Order, OrderLine
from crm.selectors import customers_with_stale_stats
from tests.api.webhook_helpers import forget_connections, subscribe
from tests.club.helpers import ledger_sum
from tests.factories import CustomerFactory, EarningRuleFactory, MessageFactory
from tests.helpers import member_since

pytestmark = pytest.mark.django_db

ROADS = ["api_single", "api_bulk", "command", "admin_import"]
ORDERS_URL = "/api/v1/orders/"
BULK_URL = "/api/v1/orders/bulk/"


@pytest.fixture
def purchase_rule(db):
    """One point per unit spent, coffee counts double (the members' fixtures use this rule)."""
    return EarningRuleFactory(category_multipliers={"coffee": 2})


@pytest.fixture
def queued_in_memory():
    """Webhook deliveries are queued on an in-process broker: the outbox rows are what is compared,
    and nothing leaves the test for a broker or a partner."""
    saved = {key: celery_app.conf[key] for key in ("broker_url", "task_always_eager")}
    celery_app.conf.broker_url, celery_app.conf.task_always_eager = "memory://", False
    forget_connections()
    yield
    celery_app.conf.update(saved)
    forget_connections()


@pytest.fixture
def shop(tiers, purchase_rule, partner, settings, queued_in_memory):
    """Two members (Sara of two years' standing, Omid who joined ten days ago), a customer outside the
    club (Nima), a campaign email Omid got the day before his order, and a partner subscribed to the
    order, points and tier events. Returns the orders every road sends, oldest first."""
    settings.CAMPAIGNS_CONVERSION_DAYS = 7
    settings.CLUB_PENDING_DAYS = 0
    settings.API_WEBHOOK_SUBSCRIBERS_CACHE_SECONDS = 0
    sara = CustomerFactory(first_name="Sara", email="sara@example.com", external_ref="POS-SARA")
    omid = CustomerFactory(first_name="Omid", email="omid@example.com", phone="+989351112233")
    nima = CustomerFactory(first_name="Nima", email="nima@example.com")
    member_since(club_services.member_enroll(customer=sara), days=730)
    member_since(club_services.member_enroll(customer=omid), days=10)
    now = timezone.now().replace(microsecond=0)

    def at(days: float):
        return now - timedelta(days=days)

    MessageFactory(customer=omid, status=Message.Status.SENT, sent_at=at(3), campaign__name="Spring sale")
    subscribe(partner, _Endpoint(), "order.created", "points.earned", "tier.changed")

    def line(sku, category, quantity, price):
        return {"sku": sku, "product_name": sku.title(), "category": category, "quantity": quantity,
                "unit_price": price}

    # Sent in this order by every road: the order that lifts Sara to Silver comes last, so that
    # one order at a time earns at the tier a batch earns at.
    return [
        {"order_number": "O-1", "customer": omid, "ref": "+98 935 111 2233", "placed_at": at(20), "total": "50.00",
         "lines": [line("BEANS", "coffee", 1, "50.00")]},  # before Omid joined: earns nothing
        {"order_number": "S-1", "customer": sara, "ref": "POS-SARA", "placed_at": at(5), "total": "100.00",
         "lines": [line("BEANS", "coffee", 2, "30.00"), line("MUG", "kitchen", 1, "40.00")]},  # 120 + 40
        {"order_number": "N-1", "customer": nima, "ref": "nima@example.com", "placed_at": at(4), "total": "55.00",
         "lines": [line("MUG", "kitchen", 1, "55.00")]},  # not a member
        {"order_number": "S-2", "customer": sara, "ref": "sara@example.com", "placed_at": at(3), "total": "80.00",
         "status": "cancelled", "lines": [line("BEANS", "coffee", 1, "80.00")]},  # cancelled: earns nothing
        {"order_number": "O-2", "customer": omid, "ref": "omid@example.com", "placed_at": at(2), "total": "70.00",
         "lines": [line("MUG", "kitchen", 1, "20.00"), line("BEANS", "coffee", 1, "50.00")]},  # 20 + 100; converts
        {"order_number": "O-3", "customer": omid, "ref": "OMID@example.com", "placed_at": at(1.5), "total": "30.00",
         "lines": []},  # no lines: 30
        {"order_number": "S-3", "customer": sara, "ref": "POS-SARA", "placed_at": at(1), "total": "400.00",
         "lines": [line("BEANS", "coffee", 5, "80.00")]},  # 800: Sara reaches Silver (500)
    ]


class _Endpoint:
    url = "https://hooks.shop.example/clubcrm"


# --- The roads --------------------------------------------------------------------------------------


def _api_body(order: dict) -> dict:
    return {"customer": str(order["customer"].public_id), "order_number": order["order_number"],
            "placed_at": order["placed_at"].isoformat(), "status": order.get("status", "fulfilled"),
            "channel": "online", "currency": "USD", "total": order["total"], "lines": order["lines"]}


def _csv(orders: list[dict]) -> bytes:
    columns = ORDER_COLUMNS + LINE_COLUMNS
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for order in orders:
        head = {"order_number": order["order_number"], "customer_ref": order["ref"],
                "placed_at": order["placed_at"].isoformat(), "status": order.get("status", "fulfilled"),
                "channel": "online", "currency": "USD", "total": order["total"]}
        for line in order["lines"] or [{}]:
            writer.writerow({**head, **line})
    return out.getvalue().encode()


def _send(road: str, orders: list[dict], *, make_client, client, admin_user, tmp_path) -> None:
    if road == "api_single":
        api = make_client("orders:write", "customers:read")
        for index, order in enumerate(orders):
            response = api.post(ORDERS_URL, _api_body(order), format="json", HTTP_IDEMPOTENCY_KEY=f"road-{index}")
            assert response.status_code == 201, response.content
    elif road == "api_bulk":
        api = make_client("orders:write", "customers:read")
        response = api.post(BULK_URL, {"orders": [_api_body(order) for order in orders]}, format="json",
                            HTTP_IDEMPOTENCY_KEY="road-bulk")
        assert response.status_code == 201, response.content
        assert response.json()["created"] == len(orders)
    elif road == "command":
        path = tmp_path / "orders.csv"
        path.write_bytes(_csv(orders))
        call_command("import_orders", str(path), stdout=io.StringIO())
    elif road == "admin_import":
        client.force_login(admin_user)
        upload = SimpleUploadedFile("orders.csv", _csv(orders), content_type="text/csv")
        response = client.post(reverse("admin:crm_order_import"), {"file": upload})
        assert response.status_code == 302, [str(message) for message in response.context["messages"]]
    else:  # pragma: no cover
        raise AssertionError(road)


# --- The fingerprint ------------------------------------------------------------------------------


def fingerprint() -> dict:
    """What the orders did, in terms that do not depend on the road they came by."""
    emails = dict(Customer.objects.values_list("pk", "email"))
    by_public_id = {str(public_id): email for public_id, email in Customer.objects.values_list("public_id", "email")}
    skus = dict(OrderLine.objects.values_list("pk", "sku"))
    ledger = sorted(
        (emails[row.member.customer_id], row.order.order_number if row.order_id else "", row.kind, row.points,
         tuple(sorted((skus[int(pk)], value["points"]) for pk, value in (row.lines or {}).items())))
        for row in PointsTransaction.objects.select_related("member", "order")
    )
    members = {emails[member.customer_id]: (member.points_balance, member.tier.name if member.tier_id else None)
               for member in Membership.objects.select_related("tier")}
    tier_changes = sorted(
        (emails[change.member.customer_id], change.from_tier.name if change.from_tier_id else "",
         change.to_tier.name if change.to_tier_id else "", change.reason)
        for change in TierChange.objects.select_related("member", "from_tier", "to_tier")
    )
    conversions = sorted(
        (message.campaign.name, emails[message.customer_id], message.conversion_order.order_number, message.revenue)
        for message in Message.objects.filter(conversion_order__isnull=False).select_related("campaign", "conversion_order")
    )
    outbox = sorted(
        (row.event, by_public_id[row.payload["customer"]],
         row.payload.get("order_number") or row.payload.get("points") or row.payload.get("to_tier"))
        for row in WebhookDelivery.objects.all()
    )
    orders = sorted(
        (order.order_number, emails[order.customer_id], order.status, order.total,
         tuple(sorted((line.sku, line.category, line.quantity, line.unit_price) for line in order.lines.all())))
        for order in Order.objects.prefetch_related("lines")
    )
    figures = {email: (count, spent) for email, count, spent in Customer.objects.values_list(
        "email", "orders_count", "total_spent")}
    return {"orders": orders, "figures": figures, "ledger": ledger, "members": members, "tier_changes": tier_changes,
            "conversions": conversions, "outbox": outbox}


def _lines(*pairs):
    return tuple(sorted(pairs))


EXPECTED = {
    "orders": [
        ("N-1", "nima@example.com", "fulfilled", Decimal("55.00"), (("MUG", "kitchen", 1, Decimal("55.00")),)),
        ("O-1", "omid@example.com", "fulfilled", Decimal("50.00"), (("BEANS", "coffee", 1, Decimal("50.00")),)),
        ("O-2", "omid@example.com", "fulfilled", Decimal("70.00"),
         (("BEANS", "coffee", 1, Decimal("50.00")), ("MUG", "kitchen", 1, Decimal("20.00")))),
        ("O-3", "omid@example.com", "fulfilled", Decimal("30.00"), ()),
        ("S-1", "sara@example.com", "fulfilled", Decimal("100.00"),
         (("BEANS", "coffee", 2, Decimal("30.00")), ("MUG", "kitchen", 1, Decimal("40.00")))),
        ("S-2", "sara@example.com", "cancelled", Decimal("80.00"), (("BEANS", "coffee", 1, Decimal("80.00")),)),
        ("S-3", "sara@example.com", "fulfilled", Decimal("400.00"), (("BEANS", "coffee", 5, Decimal("80.00")),)),
    ],
    # counted orders only: the cancelled S-2 neither counts nor adds to the spend
    "figures": {"sara@example.com": (2, Decimal("500.00")), "omid@example.com": (3, Decimal("150.00")),
                "nima@example.com": (1, Decimal("55.00"))},
    "ledger": [
        ("omid@example.com", "O-2", "earn", 120, _lines(("BEANS", 100), ("MUG", 20))),
        ("omid@example.com", "O-3", "earn", 30, ()),
        ("sara@example.com", "S-1", "earn", 160, _lines(("BEANS", 120), ("MUG", 40))),
        ("sara@example.com", "S-3", "earn", 800, (("BEANS", 800),)),
    ],
    "members": {"sara@example.com": (960, "Silver"), "omid@example.com": (150, "Bronze")},
    "tier_changes": [
        ("omid@example.com", "", "Bronze", "enrolled"),
        ("sara@example.com", "", "Bronze", "enrolled"),
        ("sara@example.com", "Bronze", "Silver", "qualified"),
    ],
    "conversions": [("Spring sale", "omid@example.com", "O-2", Decimal("70.00"))],
    "outbox": sorted([
        ("order.created", "omid@example.com", "O-1"),
        ("order.created", "sara@example.com", "S-1"),
        ("order.created", "nima@example.com", "N-1"),
        ("order.created", "sara@example.com", "S-2"),
        ("order.created", "omid@example.com", "O-2"),
        ("order.created", "omid@example.com", "O-3"),
        ("order.created", "sara@example.com", "S-3"),
        ("points.earned", "sara@example.com", 160),
        ("points.earned", "omid@example.com", 120),
        ("points.earned", "omid@example.com", 30),
        ("points.earned", "sara@example.com", 800),
        ("tier.changed", "sara@example.com", "Silver"),
    ]),
}


@pytest.mark.parametrize("road", ROADS)
def test_it_leaves_the_same_points_tiers_conversions_and_webhooks_whichever_road_the_orders_take(
    road, shop, make_client, client, admin_user, tmp_path, django_capture_on_commit_callbacks,
):
    before = fingerprint()
    assert before["ledger"] == [] and before["outbox"] == [] and before["conversions"] == []

    with django_capture_on_commit_callbacks(execute=True):
        _send(road, shop, make_client=make_client, client=client, admin_user=admin_user, tmp_path=tmp_path)

    assert fingerprint() == EXPECTED


# --- The same batch twice at the same moment (PostgreSQL: real transactions) ---------------------


def _in_parallel(*calls):
    """Run each call in its own thread (its own connection), all released at the same moment;
    returns what each returned or raised."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(slot, call):
        try:
            barrier.wait(10)
            results[slot] = call()
        except Exception as exc:  # noqa: BLE001 - the outcome is what the test looks at
            results[slot] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(slot, call)) for slot, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not any(thread.is_alive() for thread in threads)
    return results


@pytest.fixture
def big_batch(tiers, purchase_rule):
    """50 orders of 10 members of two years' standing, two lines each, placed over the last 50 days."""
    members = [member_since(club_services.member_enroll(customer=CustomerFactory(email=f"m{index}@example.com")))
               for index in range(10)]
    now = timezone.now().replace(microsecond=0)
    return [
        {"order_number": f"B-{index:03d}", "customer": members[index % 10].customer, "ref": f"m{index % 10}@example.com",
         "placed_at": now - timedelta(days=50 - index), "total": "30.00",
         "lines": [{"sku": "BEANS", "product_name": "Beans", "category": "coffee", "quantity": 1, "unit_price": "20.00"},
                   {"sku": "MUG", "product_name": "Mug", "category": "kitchen", "quantity": 1, "unit_price": "10.00"}]}
        for index in range(50)
    ]


def _each_order_and_earning_once(batch) -> None:
    numbers = [order["order_number"] for order in batch]
    assert sorted(Order.objects.values_list("order_number", flat=True)) == numbers
    assert OrderLine.objects.count() == 2 * len(batch)
    earned = list(PointsTransaction.objects.values_list("order__order_number", "points"))
    assert sorted(earned) == [(number, 50) for number in numbers]  # 20 x 2 (coffee) + 10
    for member in Membership.objects.all():
        assert member.points_balance == ledger_sum(member) == 250


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_same_batch_sent_twice_in_parallel_is_stored_once_and_the_loser_is_told_which_orders_exist(big_batch, make_client):
    api = make_client("orders:write", "customers:read")
    body = {"orders": [_api_body(order) for order in big_batch]}

    def post(idempotency_key):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Api-Key {api.secret}")
        return lambda: client.post(BULK_URL, body, format="json", HTTP_IDEMPOTENCY_KEY=idempotency_key)

    first, second = _in_parallel(post("batch-a"), post("batch-b"))

    assert sorted([first.status_code, second.status_code]) == [201, 400], [first.content, second.content]
    loser = second if first.status_code == 201 else first
    # Whether it raced the winner to the same rows or came a moment later, the loser is told which
    # orders are stored already (crm.services.orders_create), and stored nothing.
    problem = loser.json()
    assert "nothing was stored" in problem["detail"]
    assert problem["errors"] == [{"index": index, "errors": {"order_number": ["An order with this number is already stored."]}}
                                 for index in range(len(big_batch))]
    _each_order_and_earning_once(big_batch)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_batches_for_the_same_customers_in_parallel_both_count_in_their_figures(big_batch, make_client):
    """The customers' figures are added to by each batch (crm.services.customers_add_new_orders): two batches
    committing at once for the same people must not lose either's orders."""
    api = make_client("orders:write", "customers:read")

    def post(orders, idempotency_key):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Api-Key {api.secret}")
        body = {"orders": [_api_body(order) for order in orders]}
        return lambda: client.post(BULK_URL, body, format="json", HTTP_IDEMPOTENCY_KEY=idempotency_key)

    first, second = _in_parallel(post(big_batch[:25], "half-a"), post(big_batch[25:], "half-b"))

    assert (first.status_code, second.status_code) == (201, 201), [first.content, second.content]
    assert not customers_with_stale_stats().exists()
    assert sorted(Customer.objects.filter(orders_count__gt=0).values_list("orders_count", flat=True)) == [5] * 10
    _each_order_and_earning_once(big_batch)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_same_file_imported_twice_in_parallel_is_stored_once_and_the_loser_fails_cleanly_or_skips(big_batch, tmp_path):
    path = tmp_path / "orders.csv"
    path.write_bytes(_csv(big_batch))

    def run():
        with path.open("rb") as file:
            return import_orders(file)

    outcomes = _in_parallel(run, run)

    # Either run may win: the outcomes come in the order the runs were started, not the order they finished.
    winners = [outcome for outcome in outcomes if isinstance(outcome, ImportResult) and outcome.created == len(big_batch)]
    assert len(winners) == 1, outcomes
    (loser,) = [outcome for outcome in outcomes if outcome is not winners[0]]
    if isinstance(loser, ImportResult):  # it came second: every order is skipped as stored already
        assert (loser.created, loser.skipped) == (0, len(big_batch))
    else:
        assert isinstance(loser, ImportFailed), repr(loser)
        assert "nothing was imported" in loser.errors[0]
    _each_order_and_earning_once(big_batch)
