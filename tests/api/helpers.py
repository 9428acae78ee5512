"""Helpers shared by the API tests (and the integrity tests that go through the API)."""

ORDERS_URL = "/api/v1/orders/"


def assert_problem(response, status: int):
    """The response is an RFC 9457 problem with this status; returns its body."""
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == status
    assert body["type"] and body["title"] and body["detail"]
    return body


def order_body(for_customer, **overrides):
    """A POST orders/ body: two lines (2 x beans at 100, a mug at 50), total 250."""
    body = {
        "customer": str(for_customer.public_id), "order_number": "W-1001", "placed_at": "2026-01-05T10:00:00Z",
        "status": "fulfilled", "channel": "online", "currency": "usd", "total": "250.00",
        "lines": [
            {"sku": "BEANS", "product_name": "Beans", "category": "coffee", "quantity": 2, "unit_price": "100.00"},
            {"product_name": "Mug", "quantity": 1, "unit_price": "50.00"},
        ],
    }
    body.update(overrides)
    return body
