"""campaigns/{id}/lift/: the lift over the holdout, for keys with the campaigns:read scope."""

import io
import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone

from api import services as api_services
from campaigns.models import Message
from tests.api.helpers import assert_problem
from tests.factories import CampaignFactory, CustomerFactory, MessageFactory, OrderFactory

URL = "/api/v1/campaigns/"


@pytest.fixture
def campaign(db, partner):
    """Recipients A (ordered 40.00 two days after) and B; holdout C (ordered 10.00) and D.
    The partner created A and C only."""
    start = timezone.now() - timedelta(days=40)
    campaign = CampaignFactory()
    people = {}
    for name, status, total in (("A", Message.Status.SENT, "40.00"), ("B", Message.Status.SENT, None),
                                ("C", Message.Status.HELD_OUT, "10.00"), ("D", Message.Status.HELD_OUT, None)):
        people[name] = CustomerFactory(first_name=name)
        MessageFactory(campaign=campaign, customer=people[name], status=status, created_at=start)
        if total:
            OrderFactory(customer=people[name], placed_at=start + timedelta(days=2), total=Decimal(total))
    for name in "AC":
        api_services.partner_customer_share(partner=partner, customer=people[name], created=True)
    return campaign


def test_it_reads_the_lift_as_the_command_prints_it_with_the_details(make_client, campaign):
    body = make_client("campaigns:read").get(f"{URL}{campaign.public_id}/lift/").json()
    out = io.StringIO()
    call_command("campaign_lift", str(campaign.pk), "--json", stdout=out)
    printed = json.loads(out.getvalue())
    assert printed["campaign"] == campaign.pk and body["campaign"] == str(campaign.public_id)
    assert {key: body[key] for key in printed if key != "campaign"} == {key: printed[key] for key in printed if key != "campaign"}
    assert (body["treated"], body["holdout"], body["treated_rate"], body["holdout_rate"], body["lift"]) == (2, 2, 0.5, 0.5, 0.0)
    assert (body["treated_revenue_per_customer"], body["holdout_revenue_per_customer"]) == ("20.00", "5.00")
    assert body["incremental_revenue"] == "30.00"
    assert body["sentence"].startswith("No measurable effect") and body["window_complete"] is True


def test_the_window_is_a_parameter(make_client, campaign):
    body = make_client("campaigns:read").get(f"{URL}{campaign.public_id}/lift/?window_days=1").json()
    assert (body["window_days"], body["treated_converted"], body["holdout_converted"]) == (1, 0, 0)


@pytest.mark.parametrize("query", ["window_days=0", "window_days=3651", "window_days=thirty", "window=30"])
def test_a_bad_query_is_a_400_naming_the_field(make_client, campaign, query):
    body = assert_problem(make_client("campaigns:read").get(f"{URL}{campaign.public_id}/lift/?{query}"), 400)
    assert query.split("=")[0] in body["errors"], body


def test_it_needs_the_campaigns_read_scope(make_client, campaign):
    body = assert_problem(make_client("metrics:read", "segments:read").get(f"{URL}{campaign.public_id}/lift/"), 403)
    assert body["scope"] == "campaigns:read"


def test_an_unknown_campaign_is_a_404(make_client, campaign):
    import uuid

    assert_problem(make_client("campaigns:read").get(f"{URL}{uuid.uuid4()}/lift/"), 404)
    assert_problem(make_client("campaigns:read").get(f"{URL}{campaign.pk}/lift/"), 404)  # not by its integer id
    assert_problem(make_client("campaigns:read").get(f"{URL}x/lift/"), 404)


def test_an_own_data_only_key_gets_the_lift_over_its_own_customers(make_client, campaign):
    """Campaigns are the business's, not a partner's: such a key reads any campaign, but measured
    over the customers it created (A and C), as segment metrics are; another partner's key sees none of them."""
    body = make_client("campaigns:read", own_data_only=True).get(f"{URL}{campaign.public_id}/lift/").json()
    assert (body["treated"], body["holdout"], body["treated_converted"], body["holdout_converted"]) == (1, 1, 1, 1)
    other = api_services.partner_create(name="Shop Two", contact="ops@two.example")
    body = make_client("campaigns:read", own_data_only=True, for_partner=other).get(f"{URL}{campaign.public_id}/lift/").json()
    assert (body["treated"], body["holdout"], body["lift"]) == (0, 0, None)


def test_the_schema_documents_the_lift(make_client, campaign):
    from rest_framework.test import APIClient

    schema = APIClient().get("/api/schema/?format=json").json()
    operation = schema["paths"]["/api/v1/campaigns/{id}/lift/"]["get"]
    assert {parameter["name"] for parameter in operation["parameters"]} >= {"id", "window_days"}
    documented = schema["components"]["schemas"]["Lift"]["properties"]
    body = make_client("campaigns:read").get(f"{URL}{campaign.public_id}/lift/").json()
    assert list(documented) == list(body)
