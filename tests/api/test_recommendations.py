"""GET customers/{id}/recommendations/: the customer's picks, best first, products on sale only; scope
customers:read; a customer the key cannot see is the usual 404; an own-data-only key that sees a person only
through what it sent gets an empty list (the picks come from other partners' orders); constant queries."""

import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from api import services as api_services
from tests.factories import CustomerFactory
from tests.factories.recommendations import give_picks, product

pytestmark = pytest.mark.django_db


def url(customer) -> str:
    return f"/api/v1/customers/{customer.public_id}/recommendations/"


@pytest.fixture
def catalogue(db):
    return [
        product("BEANS", "Beans 250g", price="12.50", url="https://shop.example/beans"),
        product("FILT", "Filters 100", price=None, category="accessories"),
        product("OLD", "Old kettle", active=False),
    ]


def test_it_lists_the_picks_best_first_with_the_product(make_client, catalogue):
    customer = CustomerFactory()
    give_picks(customer, catalogue[0], catalogue[2], catalogue[1])
    response = make_client("customers:read").get(url(customer))
    assert response.status_code == 200, response.content
    results = response.json()["results"]
    assert [row["product"]["sku"] for row in results] == ["BEANS", "FILT"]  # the kettle is off sale
    first = results[0]
    assert first["product"] == {"sku": "BEANS", "name": "Beans 250g", "category": "coffee", "price": "12.50",
                                "url": "https://shop.example/beans"}
    assert first["rank"] == 1 and first["reason"] == "together" and isinstance(first["score"], float)
    assert first["computed_at"].endswith("Z")
    assert results[1]["product"]["price"] is None and results[1]["product"]["url"] is None
    assert results[1]["rank"] == 3


def test_a_customer_without_picks_has_an_empty_list(make_client):
    response = make_client("customers:read").get(url(CustomerFactory()))
    assert response.status_code == 200 and response.json() == {"results": []}


def test_it_needs_the_customers_read_scope(make_client, catalogue):
    customer = CustomerFactory()
    response = make_client("club:read", "orders:write").get(url(customer))
    assert response.status_code == 403


def test_an_unknown_customer_and_one_the_key_cannot_see_read_the_same(make_client, other_partner, catalogue):
    theirs = api_services.partner_customer_create(partner=other_partner, email="theirs@example.com")
    give_picks(theirs, catalogue[0])
    client = make_client("customers:read", own_data_only=True)
    hidden = client.get(url(theirs))
    missing = client.get(f"/api/v1/customers/{uuid.uuid4()}/recommendations/")
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json() == missing.json()


def test_an_own_data_key_sees_the_picks_of_its_own_customers(make_client, partner, catalogue):
    client = make_client("customers:read", own_data_only=True)
    mine = api_services.partner_customer_create(partner=partner, email="mine@example.com")
    give_picks(mine, catalogue[0])
    assert [row["product"]["sku"] for row in client.get(url(mine)).json()["results"]] == ["BEANS"]


def test_a_person_seen_only_through_the_key_s_view_has_no_picks(make_client, other_partner, catalogue):
    elsewhere = api_services.partner_customer_create(partner=other_partner, email="parisa@example.com")
    give_picks(elsewhere, catalogue[0], catalogue[1])
    client = make_client("customers:read", "customers:write", own_data_only=True)
    pushed = client.post("/api/v1/customers/", {"email": "parisa@example.com"}, format="json")
    assert pushed.status_code == 201 and pushed.json()["id"] == str(elsewhere.public_id)
    response = client.get(url(elsewhere))
    assert response.status_code == 200 and response.json() == {"results": []}


def test_it_costs_the_same_queries_for_one_pick_and_ten(make_client, django_assert_max_num_queries):
    client = make_client("customers:read")
    few, many = CustomerFactory(), CustomerFactory()
    items = [product(f"P{index}", f"Product {index}") for index in range(10)]
    give_picks(few, items[0])
    give_picks(many, *items)
    client.get(url(few))  # the key's first use is remembered
    counts = []
    for customer in (few, many):
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url(customer)).status_code == 200
        counts.append(len(captured))
    assert counts[0] == counts[1]
    with django_assert_max_num_queries(counts[1]):
        assert len(client.get(url(many)).json()["results"]) == 10
