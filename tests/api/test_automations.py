"""automations/{id}/lift/ and `manage.py automation_lift`: an automation's entries of a period against its
held-out entries, each measured from its own send date (as the automation's report in the admin)."""

import io
import json
import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from api import services as api_services
from campaigns.admin.lift import lift_context
from campaigns.models import Automation, Message
from tests.api.helpers import assert_problem
from tests.factories import CustomerFactory, MessageFactory, OrderFactory

URL = "/api/v1/automations/"


@pytest.fixture
def entries(db, partner):
    """Entries of a win-back automation, each with its own date (days ago), and the orders after them:
    A (sent 60 days ago, 40.00 two days later), B (sent 20 days ago, 20.00 five days later: in its own
    window, 45 days after A's entry), C (held out 45 days ago, 10.00 the next day), D (held out 40 days
    ago, 5.00 35 days later: after its window), E (sent 200 days ago, before the period). The partner
    created A and C."""
    now = timezone.now()
    automation = Automation.objects.create(name="Win back", kind=Automation.Kind.WIN_BACK, holdout_percent=10)
    people = {}
    for name, status, sent, ordered, total in (
        ("A", Message.Status.SENT, 60, 58, "40.00"), ("B", Message.Status.SENT, 20, 15, "20.00"),
        ("C", Message.Status.HELD_OUT, 45, 44, "10.00"), ("D", Message.Status.HELD_OUT, 40, 5, "5.00"),
        ("E", Message.Status.SENT, 200, 199, "99.00"),
    ):
        people[name] = CustomerFactory(first_name=name)
        MessageFactory(campaign=None, automation=automation, customer=people[name], status=status,
                       created_at=now - timedelta(days=sent))
        OrderFactory(customer=people[name], placed_at=now - timedelta(days=ordered), total=Decimal(total))
    for name in "AC":
        api_services.partner_customer_share(partner=partner, customer=people[name], created=True)
    start = (now - timedelta(days=70)).date().isoformat()
    end = (now + timedelta(days=1)).date().isoformat()
    return automation, start, end


def _printed(*args) -> dict:
    out = io.StringIO()
    call_command("automation_lift", *args, "--json", stdout=out)
    return json.loads(out.getvalue())


def test_the_command_prints_the_keys_of_campaign_lift_for_the_automation_and_its_period(entries):
    automation, start, end = entries
    printed = _printed(str(automation.pk), "--start", start, "--end", end)
    assert list(printed) == [
        "automation", "start", "end", "window_days", "treated", "holdout", "treated_converted", "holdout_converted",
        "treated_rate", "holdout_rate", "lift", "lift_ci_low", "lift_ci_high", "treated_revenue_per_customer",
        "holdout_revenue_per_customer", "incremental_revenue"]
    # By hand: recipients A and B both converted in their own windows (60.00), the holdout C only (10.00);
    # E's entry is before the period.
    assert (printed["automation"], printed["start"], printed["end"], printed["window_days"]) == (automation.pk, start, end, 30)
    assert (printed["treated"], printed["holdout"], printed["treated_converted"], printed["holdout_converted"]) == (2, 2, 2, 1)
    assert (printed["treated_rate"], printed["holdout_rate"], printed["lift"]) == (1.0, 0.5, 0.5)
    assert (printed["treated_revenue_per_customer"], printed["holdout_revenue_per_customer"]) == ("30.00", "5.00")
    assert printed["incremental_revenue"] == "50.00"
    assert printed["lift_ci_low"] < 0.5 < printed["lift_ci_high"]
    # By public id too, and the same figures as the admin's page (one selector).
    assert _printed(str(automation.public_id), "--start", start, "--end", end) == printed


def test_the_command_and_the_admin_page_share_the_selector(entries, rf):
    automation, _start, _end = entries
    # The admin page: entries of the last 90 days, up to now.
    data = lift_context(rf.get("/"), automation)["lift_data"]
    now = timezone.now()
    printed = _printed(str(automation.pk), "--start", (now - timedelta(days=90)).date().isoformat(),
                       "--end", (now + timedelta(days=1)).date().isoformat())
    assert {key: data[key] for key in printed if key in data} == {key: printed[key] for key in printed if key in data}


def test_the_window_is_an_option(entries):
    automation, start, end = entries
    printed = _printed(str(automation.pk), "--start", start, "--end", end, "--window-days", "1")
    # [entry, entry + 1 day): C's order, exactly a day after its entry, is already outside.
    assert (printed["window_days"], printed["treated_converted"], printed["holdout_converted"]) == (1, 0, 0)


def test_the_command_prints_a_readable_table(entries):
    automation, start, end = entries
    out = io.StringIO()
    call_command("automation_lift", str(automation.pk), "--start", start, "--end", end, stdout=out)
    text = out.getvalue()
    assert f"Automation               {automation.pk} Win back" in text
    assert "Customers                2 / 2" in text and "No measurable effect" in text


@pytest.mark.parametrize("args, message", [
    (["--start", "2026-13-01", "--end", "2026-02-01"], "--start: start must be a date written YYYY-MM-DD"),
    (["--start", "2026-02-01", "--end", "2026-01-01"], "--end: end must be after start"),
    (["--start", "2026-01-01", "--end", "soon"], "--end: end must be a date"),
    (["--start", "2026-01-01", "--end", "2026-02-01", "--window-days", "0"], "--window-days: window_days must be"),
])
def test_a_bad_option_is_a_one_line_error_naming_it(entries, args, message):
    automation, _start, _end = entries
    with pytest.raises(CommandError, match=message.replace("(", r"\(")):
        call_command("automation_lift", str(automation.pk), *args)


def test_an_unknown_automation_is_an_error(db):
    with pytest.raises(CommandError, match="No automation with the id '999'"):
        call_command("automation_lift", "999", "--start", "2026-01-01", "--end", "2026-02-01")


# --- the API --------------------------------------------------------------------------------------


def test_the_api_reads_the_lift_as_the_command_prints_it_with_the_details(make_client, entries):
    automation, start, end = entries
    body = make_client("campaigns:read").get(f"{URL}{automation.public_id}/lift/?start={start}&end={end}").json()
    printed = _printed(str(automation.pk), "--start", start, "--end", end)
    assert body["automation"] == str(automation.public_id)
    assert {key: body[key] for key in printed if key != "automation"} == \
        {key: printed[key] for key in printed if key != "automation"}
    assert body["sentence"].startswith("No measurable effect") and body["treated_orders"] == 2


@pytest.mark.parametrize("query, field", [
    ("end=2026-02-01", "start"), ("start=2026-01-01", "end"), ("start=2026-01-32&end=2026-02-01", "start"),
    ("start=2026-02-01&end=2026-01-01", "end"), ("start=2026-01-01&end=2026-01-01", "end"),
    ("start=0001-01-01&end=2026-01-01", "start"), ("start=2026-01-01&end=2026-02-01&window_days=0", "window_days"),
    ("start=2026-01-01&end=2026-02-01&window=3", "window"),
])
def test_a_bad_query_is_a_400_naming_the_parameter(make_client, entries, query, field):
    automation, _start, _end = entries
    body = assert_problem(make_client("campaigns:read").get(f"{URL}{automation.public_id}/lift/?{query}"), 400)
    assert field in body["errors"], body


def test_it_needs_the_campaigns_read_scope(make_client, entries):
    automation, start, end = entries
    body = assert_problem(make_client("metrics:read").get(f"{URL}{automation.public_id}/lift/?start={start}&end={end}"), 403)
    assert body["scope"] == "campaigns:read"


def test_an_unknown_automation_is_a_404(make_client, entries):
    automation, start, end = entries
    client = make_client("campaigns:read")
    for reference in (uuid.uuid4(), automation.pk, "x"):
        assert_problem(client.get(f"{URL}{reference}/lift/?start={start}&end={end}"), 404)


def test_an_own_data_only_key_gets_the_lift_over_its_own_customers(make_client, entries):
    automation, start, end = entries
    query = f"{URL}{automation.public_id}/lift/?start={start}&end={end}"
    body = make_client("campaigns:read", own_data_only=True).get(query).json()
    assert (body["treated"], body["holdout"], body["treated_converted"], body["holdout_converted"]) == (1, 1, 1, 1)
    other = api_services.partner_create(name="Shop Two", contact="ops@two.example")
    body = make_client("campaigns:read", own_data_only=True, for_partner=other).get(query).json()
    assert (body["treated"], body["holdout"], body["lift"]) == (0, 0, None)


def test_the_schema_documents_the_automation_lift(make_client, entries):
    from rest_framework.test import APIClient

    automation, start, end = entries
    schema = APIClient().get("/api/schema/?format=json").json()
    operation = schema["paths"]["/api/v1/automations/{id}/lift/"]["get"]
    assert {parameter["name"] for parameter in operation["parameters"]} >= {"id", "start", "end", "window_days"}
    documented = schema["components"]["schemas"]["AutomationLift"]["properties"]
    body = make_client("campaigns:read").get(f"{URL}{automation.public_id}/lift/?start={start}&end={end}").json()
    assert list(documented) == list(body)


def test_the_lift_is_read_in_a_constant_number_of_queries(make_client, entries, django_assert_max_num_queries):
    automation, start, end = entries
    client = make_client("campaigns:read")
    client.get(f"{URL}{automation.public_id}/lift/?start={start}&end={end}")
    with django_assert_max_num_queries(6):
        assert client.get(f"{URL}{automation.public_id}/lift/?start={start}&end={end}").status_code == 200
