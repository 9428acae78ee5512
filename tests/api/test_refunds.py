"""POST orders/{id}/refund/ with the lines refunded: the club takes back those lines' points.

The order of every test is order_body's: 2 x beans at 100 and a mug at 50 (total 250). At 1.5 points per
unit it earns 375: 300 for the beans, 75 for the mug. Each figure below is worked out by hand.
"""

from decimal import Decimal

import pytest
from django.utils import timezone

from club import services as club_services
from club.models import PointsTransaction
from crm.models import Order
from tests.api.helpers import ORDERS_URL as URL, assert_problem, order_body
from tests.club.helpers import ledger_sum
from tests.factories import EarningRuleFactory
from tests.helpers import member_since

pytestmark = pytest.mark.django_db

UNKNOWN = "00000000-0000-0000-0000-000000000000"


@pytest.fixture
def member(customer):
    EarningRuleFactory(name="1.5 per unit", points_per_unit=Decimal("1.5"))
    return member_since(club_services.member_enroll(customer=customer))


@pytest.fixture
def order(api, member):
    """The order as the API answered it: its `lines` carry the lines' public ids."""
    body = api.post(URL, order_body(member.customer, placed_at=just_now()), format="json").json()
    assert balance(member) == 375
    return body


def just_now() -> str:
    """Orders placed before the customer joined the club earn nothing."""
    return timezone.now().isoformat()


def balance(member) -> int:
    member.refresh_from_db()
    assert member.points_balance == ledger_sum(member)  # the cached balance never leaves the ledger
    return member.points_balance


def line_id(order: dict, sku_or_name: str) -> str:
    return next(line["id"] for line in order["lines"] if sku_or_name in (line["sku"], line["product_name"]))


def refund(api, order: dict, body: dict):
    return api.post(f"{URL}{order['id']}/refund/", body, format="json")


def take_backs() -> list[tuple[int, dict, str]]:
    rows = PointsTransaction.objects.filter(kind=PointsTransaction.Kind.REVERSE).order_by("id")
    return [(row.points, row.lines, row.source_ref) for row in rows]


def test_it_takes_back_the_points_of_the_line_a_refund_names(api, member, order):
    beans = Order.objects.get().lines.get(sku="BEANS")

    reply = refund(api, order, {"amount": "50.00", "lines": [{"line": line_id(order, "BEANS"), "quantity": 1}]})

    assert reply.status_code == 200, reply.content
    assert (reply.json()["refunded_amount"], reply.json()["status"]) == ("50.00", "fulfilled")
    # One bean of two: 300 / 2 = 150 (the refunded share without lines would be floor(375 x 50 / 250) = 75).
    assert take_backs() == [(-150, {str(beans.pk): {"quantity": 1, "points": 150}}, "refund:0.00-50.00")]
    assert balance(member) == 375 - 150


def test_it_takes_back_each_named_line_and_later_the_rest_on_the_full_refund(api, member, order):
    lines = [{"line": line_id(order, "Mug"), "quantity": 1}, {"line": line_id(order, "BEANS"), "quantity": 1}]
    assert refund(api, order, {"amount": "150.00", "lines": lines}).status_code == 200
    # The mug's 75 and one bean's 150.
    assert [points for points, _lines, _ref in take_backs()] == [-225]
    assert balance(member) == 150

    reply = refund(api, order, {"amount": "100.00", "lines": [{"line": line_id(order, "BEANS"), "quantity": 1}]})

    # The full refund takes back all that is left (the second bean's 150), whatever lines it names.
    assert reply.json()["status"] == "refunded"
    assert [(points, ref) for points, _lines, ref in take_backs()] == [(-225, "refund:0.00-150.00"),
                                                                        (-150, "refund:150.00-250.00")]
    assert balance(member) == 0


def test_naming_a_line_whose_points_are_all_taken_back_refunds_the_money_and_takes_nothing_more(api, member, order):
    mug = {"line": line_id(order, "Mug"), "quantity": 1}
    assert refund(api, order, {"amount": "50.00", "lines": [mug]}).status_code == 200

    # The order does not count what earlier refunds named; the club does, and the mug's 75 are already back.
    reply = refund(api, order, {"amount": "10.00", "lines": [mug]})

    assert reply.status_code == 200 and reply.json()["refunded_amount"] == "60.00"
    assert [points for points, _lines, _ref in take_backs()] == [-75]
    assert balance(member) == 300


def test_an_empty_list_of_lines_takes_back_the_refunded_share(api, member, order):
    assert refund(api, order, {"amount": "50.00", "lines": []}).status_code == 200
    assert [points for points, _lines, _ref in take_backs()] == [-75]  # floor(375 x 50 / 250)
    assert balance(member) == 300


@pytest.mark.parametrize("lines, field", [
    ([{"line": UNKNOWN, "quantity": 1}], "lines[0].line"),
    ([{"line": "not-a-uuid", "quantity": 1}], "lines[0].line"),
    ([{"line": "BEANS", "quantity": 0}], "lines[0].quantity"),
    ([{"line": "BEANS", "quantity": -1}], "lines[0].quantity"),
    ([{"line": "BEANS", "quantity": 3}], "lines[0].quantity"),  # two were bought
    ([{"line": "Mug", "quantity": 1}, {"line": "BEANS", "quantity": 2 ** 70}], "lines[1].quantity"),
    ([{"line": "BEANS", "quantity": "two"}], "lines[0].quantity"),
    ([{"line": "BEANS"}], "lines[0].quantity"),
    ([{"quantity": 1}], "lines[0].line"),
    ([{"line": "BEANS", "quantity": 1, "reason": "damaged"}], "lines[0].reason"),
    ([{"line": "BEANS", "quantity": 1}, {"line": "Mug", "quantity": 1}, {"line": "BEANS", "quantity": 1}], "lines[2].line"),
    ({"line": "BEANS", "quantity": 1}, "lines"),
    ("BEANS", "lines"),
])
def test_a_bad_line_is_a_400_naming_it_and_nothing_is_refunded(api, member, order, lines, field):
    for line in lines if isinstance(lines, list) else [lines]:
        if isinstance(line, dict) and line.get("line") in ("BEANS", "Mug"):
            line["line"] = line_id(order, line["line"])

    body = assert_problem(refund(api, order, {"amount": "50.00", "lines": lines}), 400)

    assert set(body["errors"]) == {field}, body
    assert Order.objects.get().refunded_amount == 0
    assert not take_backs() and balance(member) == 375


def test_a_line_of_another_order_is_a_400_and_tells_nothing_about_that_order(api, member, order):
    other = api.post(URL, order_body(member.customer, order_number="W-2", placed_at=just_now()), format="json").json()

    body = assert_problem(refund(api, order, {"amount": "50.00", "lines": [{"line": line_id(other, "Mug"), "quantity": 1}]}), 400)

    assert body["errors"] == {"lines[0].line": ["This item is not part of order W-1001."]}
    assert Order.objects.filter(refunded_amount__gt=0).count() == 0
    assert not take_backs() and balance(member) == 2 * 375


def test_an_amount_the_order_cannot_take_with_good_lines_is_a_400_on_the_amount(api, member, order):
    reply = refund(api, order, {"amount": "250.01", "lines": [{"line": line_id(order, "Mug"), "quantity": 1}]})
    body = assert_problem(reply, 400)
    assert set(body["errors"]) == {"amount"}
    assert Order.objects.get().refunded_amount == 0 and not take_backs()


def test_an_error_of_the_service_names_the_line_by_its_index_never_by_its_database_id(api, member, order, monkeypatch):
    """The service checks the lines again under its lock; should it refuse one, the partner sees its index."""
    from django.core.exceptions import ValidationError

    from crm import services as crm_services

    mug = Order.objects.get().lines.get(product_name="Mug")

    def refuse(*, order, amount, lines=None, by=None):
        raise ValidationError({f"lines.{mug.pk}": ["Refused."]})

    monkeypatch.setattr(crm_services, "order_refund", refuse)
    lines = [{"line": line_id(order, "BEANS"), "quantity": 1}, {"line": line_id(order, "Mug"), "quantity": 1}]
    body = assert_problem(refund(api, order, {"amount": "50.00", "lines": lines}), 400)
    assert body["errors"] == {"lines[1]": ["Refused."]}


def test_another_partner_s_order_is_a_404_and_stays_unrefunded(make_client, other_partner, member, order):
    outsider = make_client("orders:write", own_data_only=True, for_partner=other_partner)

    reply = refund(outsider, order, {"amount": "50.00", "lines": [{"line": line_id(order, "Mug"), "quantity": 1}]})

    assert_problem(reply, 404)
    assert Order.objects.get().refunded_amount == 0
    assert not take_backs() and balance(member) == 375


def test_a_line_refund_replayed_with_its_idempotency_key_takes_back_once(api, member, order):
    body = {"amount": "50.00", "lines": [{"line": line_id(order, "Mug"), "quantity": 1}]}
    first = api.post(f"{URL}{order['id']}/refund/", body, format="json", HTTP_IDEMPOTENCY_KEY="refund-1")
    again = api.post(f"{URL}{order['id']}/refund/", body, format="json", HTTP_IDEMPOTENCY_KEY="refund-1")

    assert first.status_code == again.status_code == 200 and again["Idempotent-Replayed"] == "true"
    assert Order.objects.get().refunded_amount == Decimal("50.00")
    assert [points for points, _lines, _ref in take_backs()] == [-75]
    assert balance(member) == 300
