"""Subscriptions: URL and event validation, the limit, and the API's `webhooks/` endpoints."""

import json

import pytest

from api import webhooks
from api.models import WebhookDelivery, WebhookSubscription
from tests.api.helpers import assert_problem
from tests.api.webhook_helpers import subscribe

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("webhook_settings")]

Status = WebhookDelivery.Status


# --- Subscriptions and URLs ----------------------------------------------------------------------


def test_production_refuses_plain_http_and_private_hosts(partner, settings):
    settings.API_WEBHOOK_ALLOW_INSECURE_URLS = False
    for url in ("http://hooks.example.com/x", "https://127.0.0.1/x", "https://10.0.0.5/x", "https://localhost/x",
                "https://[::1]/x", "https://user:pw@hooks.example.com/x", "ftp://hooks.example.com/x", "not a url"):
        with pytest.raises(webhooks.ValidationError) as error:
            webhooks.webhook_subscribe(partner=partner, url=url, events=["order.created"])
        assert "url" in error.value.message_dict, url
    subscription = webhooks.webhook_subscribe(partner=partner, url="https://hooks.example.com/x", events=["order.created"])
    assert subscription.secret.startswith("whsec_") and len(subscription.secret) > 40


def test_a_partner_has_a_limited_number_of_subscriptions(partner, receiver, settings):
    settings.API_WEBHOOK_MAX_SUBSCRIPTIONS = 2
    subscribe(partner, receiver, "order.created")
    subscribe(partner, receiver, "order.created")
    with pytest.raises(webhooks.ValidationError):
        subscribe(partner, receiver, "order.created")


# --- The API -------------------------------------------------------------------------------------


def test_a_partner_subscribes_and_gets_the_secret_once(make_client, receiver, partner):
    api = make_client("customers:read", "club:read")
    response = api.post("/api/v1/webhooks/", {"url": receiver.url, "events": ["tier.changed", "customer.created"]},
                        format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    subscription = WebhookSubscription.objects.get(partner=partner)
    assert body["secret"] == subscription.secret
    assert body["id"] == str(subscription.public_id) and body["events"] == ["customer.created", "tier.changed"]
    assert body["active"] is True and body["own_data_only"] is False

    detail = api.get(f"/api/v1/webhooks/{body['id']}/").json()
    listing = api.get("/api/v1/webhooks/").json()
    assert "secret" not in detail and listing["results"] == [detail]
    assert subscription.secret not in json.dumps(listing)


def test_a_subscription_made_with_an_own_data_only_key_is_own_data_only(make_client, receiver):
    api = make_client("customers:read", own_data_only=True)
    response = api.post("/api/v1/webhooks/", {"url": receiver.url, "events": ["customer.created"]}, format="json")
    assert response.status_code == 201 and response.json()["own_data_only"] is True


def test_another_partners_subscriptions_are_invisible(make_client, other_partner, receiver):
    theirs = subscribe(other_partner, receiver, "order.created")
    api = make_client("customers:read")
    assert api.get("/api/v1/webhooks/").json()["results"] == []
    assert_problem(api.get(f"/api/v1/webhooks/{theirs.public_id}/"), 404)
    assert_problem(api.delete(f"/api/v1/webhooks/{theirs.public_id}/"), 404)
    assert_problem(api.get("/api/v1/webhooks/not-a-uuid/"), 404)
    assert WebhookSubscription.objects.filter(pk=theirs.pk).exists()


def test_a_partner_deletes_its_subscription_and_its_deliveries(api, partner, customer, receiver, place_order):
    subscription = subscribe(partner, receiver, "order.created")
    place_order(customer)
    assert api.delete(f"/api/v1/webhooks/{subscription.public_id}/").status_code == 204
    assert not WebhookSubscription.objects.exists() and not WebhookDelivery.objects.exists()
    assert_problem(api.get(f"/api/v1/webhooks/{subscription.public_id}/"), 404)


@pytest.mark.parametrize("body, field", [
    ({"url": "not a url", "events": ["order.created"]}, "url"),
    ({"url": "https://hooks.example.com/x", "events": ["order.shipped"]}, "events"),
    ({"url": "https://hooks.example.com/x", "events": []}, "events"),
    ({"url": "https://hooks.example.com/x", "events": "order.created"}, "events"),
    ({"url": "https://hooks.example.com/x"}, "events"),
    ({"events": ["order.created"]}, "url"),
    ({"url": "https://hooks.example.com/x", "events": ["order.created"], "secret": "mine"}, "secret"),
    ({"url": "https://hooks.example.com/x" + "x" * 600, "events": ["order.created"]}, "url"),
])
def test_invalid_subscriptions_are_refused_with_the_field(api, body, field):
    problem = assert_problem(api.post("/api/v1/webhooks/", body, format="json"), 400)
    assert any(name == field or name.startswith(f"{field}[") for name in problem["errors"]), problem
    assert not WebhookSubscription.objects.exists()


def test_plain_http_is_refused_in_production(api, settings):
    settings.API_WEBHOOK_ALLOW_INSECURE_URLS = False
    problem = assert_problem(api.post("/api/v1/webhooks/", {"url": "http://hooks.example.com/x", "events": ["order.created"]},
                                      format="json"), 400)
    assert problem["errors"]["url"] == ["Webhook URLs must use https://."]


def test_an_event_needs_the_scope_that_reads_its_data(make_client, receiver):
    api = make_client("coupons:redeem")
    problem = assert_problem(api.post("/api/v1/webhooks/", {"url": receiver.url, "events": ["customer.created"]},
                                      format="json"), 403)
    assert problem["scope"] == "customers:read"
    assert api.post("/api/v1/webhooks/", {"url": receiver.url, "events": ["coupon.redeemed"]}, format="json").status_code == 201
    assert api.get("/api/v1/webhooks/").status_code == 200  # managing subscriptions needs no scope


def test_the_list_runs_a_constant_number_of_queries(api, partner, receiver, django_assert_num_queries):
    subscribe(partner, receiver, "order.created")
    api.get("/api/v1/webhooks/")  # records the key's last use (once a minute)
    # The call log, the page (the key is remembered: api.keys).
    with django_assert_num_queries(2):
        assert len(api.get("/api/v1/webhooks/").json()["results"]) == 1
    for _index in range(5):
        subscribe(partner, receiver, "order.created")
    with django_assert_num_queries(2):
        assert len(api.get("/api/v1/webhooks/").json()["results"]) == 6


def test_the_schema_describes_the_webhook_endpoints():
    from rest_framework.test import APIClient

    schema = APIClient().get("/api/schema/?format=json").json()
    assert {"get", "post"} <= set(schema["paths"]["/api/v1/webhooks/"])
    assert {"get", "delete"} <= set(schema["paths"]["/api/v1/webhooks/{id}/"])
    created = schema["components"]["schemas"]["WebhookSubscriptionCreated"]["properties"]
    assert {"id", "url", "events", "secret", "own_data_only"} <= set(created)
    assert "secret" not in schema["components"]["schemas"]["WebhookSubscription"]["properties"]


def test_a_customer_created_through_the_api_reaches_the_partners_own_data_subscription(make_client, partner, receiver):
    api = make_client("customers:read", "customers:write", own_data_only=True)
    subscribe(partner, receiver, "customer.created", own_data_only=True)
    response = api.post("/api/v1/customers/", {"email": "new@example.com"}, format="json")
    assert response.status_code == 201
    assert [row.payload["id"] for row in WebhookDelivery.objects.all()] == [response.json()["id"]]

