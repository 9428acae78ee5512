"""segments/, segments/{slug}/, segments/{slug}/customers/ and segments/{slug}/metrics/."""

import io
import json
from datetime import datetime, timezone as dt_timezone

import pytest
from django.core.management import call_command

from api import services as api_services
from campaigns.models import Segment
from campaigns.segments import segment_add_customers, segment_save
from crm.models import Customer
from tests.api.helpers import assert_problem
from tests.factories import CustomerFactory

URL = "/api/v1/segments/"


def at(*args) -> datetime:
    return datetime(*args, tzinfo=dt_timezone.utc)


@pytest.fixture
def shop(place_order, settings, partner):
    """Five customers with orders around Q2 2026; `tehran` (rules) holds A, B, E; `vip` (a list) A and C.
    The partner created (and so an own-data-only key sees) A and C only."""
    settings.CRM_ACTIVITY_WINDOW_DAYS = 90
    people = {name: CustomerFactory(first_name=name, city="Tehran" if name in "ABE" else "Shiraz") for name in "ABCDE"}
    place_order(people["A"], at=at(2026, 2, 15), total="100")
    place_order(people["A"], at=at(2026, 5, 10), total="50")
    place_order(people["B"], at=at(2026, 3, 20), total="30")
    place_order(people["C"], at=at(2026, 3, 1), total="20")
    place_order(people["C"], at=at(2026, 6, 30), total="80")
    place_order(people["D"], at=at(2026, 4, 5), total="10")
    place_order(people["E"], at=at(2026, 5, 5), total="10")
    tehran, _ = segment_save(slug="tehran", name="Tehran", rules={"all": [{"field": "city", "op": "eq", "value": "Tehran"}]})
    vip, _ = segment_save(slug="vip", name="VIP", kind=Segment.Kind.STATIC)
    segment_add_customers(segment=vip, customers=Customer.objects.filter(first_name__in=["A", "C"]))
    for name in "AC":
        api_services.partner_customer_share(partner=partner, customer=people[name], created=True)
    return {**people, "tehran": tehran, "vip": vip}


def names(response):
    assert response.status_code == 200, response.content
    return sorted(Customer.objects.get(public_id=row["id"]).first_name for row in response.json()["results"])


# --- list and detail ------------------------------------------------------------------------------


def test_segments_are_listed_by_slug_with_their_sizes(api, shop):
    rows = api.get(URL).json()["results"]
    assert [(row["slug"], row["name"], row["kind"], row["size"]) for row in rows] == [
        ("tehran", "Tehran", "dynamic", 3), ("vip", "VIP", "static", 2)]
    assert all(row["size_counted_at"] for row in rows)
    detail = api.get(f"{URL}tehran/").json()
    assert detail["slug"] == "tehran" and detail["size"] == 3


def test_an_own_data_only_key_sees_sizes_over_its_own_customers(make_client, shop):
    client = make_client("segments:read", own_data_only=True)
    assert [(row["slug"], row["size"]) for row in client.get(URL).json()["results"]] == [("tehran", 1), ("vip", 2)]
    assert client.get(f"{URL}tehran/").json()["size"] == 1
    assert client.get(f"{URL}tehran/").json()["size_counted_at"] is None


def test_the_segment_list_runs_a_constant_number_of_queries(make_client, shop, django_assert_num_queries):
    # Rules that compile to subqueries and expressions count in the same single statement.
    for n, rules in enumerate([
        {"all": [{"field": "city", "op": "eq", "value": "X"}]},
        {"any": [{"field": "order_channel", "op": "eq", "value": "store"},
                 {"field": "lifecycle_stage", "op": "eq", "value": "churned"}]},
        {"all": [{"field": "nps_category", "op": "eq", "value": "promoter"}, {"field": "tags", "op": "contains", "value": "vip"}]},
    ]):
        segment_save(slug=f"extra-{n}", name=f"Extra {n}", rules=rules)
    everyone, own = make_client("segments:read"), make_client("segments:read", own_data_only=True)
    everyone.get(URL), own.get(URL)
    with django_assert_num_queries(2):  # page, call log (the key is remembered: api.keys)
        assert len(everyone.get(f"{URL}?page_size=1").json()["results"]) == 1
    with django_assert_num_queries(2):
        assert len(everyone.get(URL).json()["results"]) == 5
    with django_assert_num_queries(3):  # page, one count of every segment of the page, call log (the key is remembered: api.keys)
        assert len(own.get(f"{URL}?page_size=1").json()["results"]) == 1
    with django_assert_num_queries(3):
        rows = own.get(URL).json()["results"]
    assert [(row["slug"], row["size"]) for row in rows] == [
        ("extra-0", 0), ("extra-1", 2), ("extra-2", 0), ("tehran", 1), ("vip", 2)]


def test_an_unknown_segment_is_404(api, shop):
    for path in ("nope/", "nope/customers/", "nope/metrics/?start=2026-04-01&end=2026-07-01", "ثبت/"):
        assert_problem(api.get(f"{URL}{path}"), 404)


def test_segments_need_the_segments_read_scope(make_client, shop):
    client = make_client("customers:read", "metrics:read")
    for path in ("", "tehran/", "tehran/customers/"):
        body = assert_problem(client.get(f"{URL}{path}"), 403)
        assert body["scope"] == "segments:read" and "segments:read" in body["detail"]


# --- customers ------------------------------------------------------------------------------------


def test_a_segments_customers_are_listed_by_cursor(api, shop):
    assert names(api.get(f"{URL}tehran/customers/")) == ["A", "B", "E"]
    assert names(api.get(f"{URL}vip/customers/")) == ["A", "C"]
    page = api.get(f"{URL}tehran/customers/?page_size=2").json()
    assert len(page["results"]) == 2 and page["next"] and "count" not in page
    rest = api.get(page["next"]).json()["results"]
    assert len({row["id"] for row in page["results"] + rest}) == 3


def test_an_own_data_only_key_sees_only_its_customers_in_a_segment(make_client, shop):
    client = make_client("segments:read", own_data_only=True)
    assert names(client.get(f"{URL}tehran/customers/")) == ["A"]
    assert names(client.get(f"{URL}vip/customers/")) == ["A", "C"]
    segment_save(slug="shiraz-others", name="Others", rules={"all": [{"field": "first_name", "op": "eq", "value": "D"}]})
    assert client.get(f"{URL}shiraz-others/customers/").json()["results"] == []


def test_a_segments_customers_run_a_constant_number_of_queries(api, shop, django_assert_num_queries):
    for customer in Customer.objects.all():
        api.patch(f"/api/v1/customers/{customer.public_id}/", {"tags": ["a", "b"]}, format="json")
    api.get(f"{URL}tehran/customers/")
    for slug, size in (("tehran", 3), ("vip", 2)):
        with django_assert_num_queries(4):  # segment, page, tags, call log (the key is remembered: api.keys)
            assert len(api.get(f"{URL}{slug}/customers/?page_size=1").json()["results"]) == 1
        with django_assert_num_queries(4):
            assert len(api.get(f"{URL}{slug}/customers/").json()["results"]) == size


def test_a_bad_page_size_or_cursor_is_a_400_naming_it(api, shop):
    assert "page_size" in assert_problem(api.get(f"{URL}tehran/customers/?page_size=abc"), 400)["errors"]
    assert "cursor" in assert_problem(api.get(f"{URL}tehran/customers/?cursor=garbage"), 400)["errors"]


# --- metrics --------------------------------------------------------------------------------------


def command_json(*args) -> list:
    out = io.StringIO()
    call_command("retention", *args, "--json", stdout=out)
    return json.loads(out.getvalue(), object_pairs_hook=list)


@pytest.mark.parametrize("slug, window", [("tehran", None), ("vip", "30"), ("all", None), ("all", "365")])
def test_metrics_are_exactly_the_json_of_the_retention_command(api, shop, slug, window):
    args = ["--segment", slug, "--start", "2026-04-01", "--end", "2026-07-01"] + (["--window", window] if window else [])
    query = "start=2026-04-01&end=2026-07-01" + (f"&window={window}" if window else "")
    response = api.get(f"{URL}{slug}/metrics/?{query}")
    assert response.status_code == 200, response.content
    assert json.loads(response.content, object_pairs_hook=list) == command_json(*args)


def test_metrics_follow_the_definitions(api, shop):
    body = api.get(f"{URL}tehran/metrics/?start=2026-04-01&end=2026-07-01").json()
    # Active at start (orders in [Jan 1, Apr 1)): A, B; retained: A; new in the period: E.
    assert (body["customers_at_start"], body["retained"], body["new_customers"]) == (2, 1, 1)
    assert (body["retention_rate"], body["churn_rate"]) == (0.5, 0.5)


def test_an_own_data_only_key_gets_metrics_over_its_own_customers(make_client, shop):
    client = make_client("metrics:read", own_data_only=True)
    body = client.get(f"{URL}tehran/metrics/?start=2026-04-01&end=2026-07-01").json()
    assert (body["customers_at_start"], body["retained"], body["new_customers"]) == (1, 1, 0)
    everyone = client.get(f"{URL}all/metrics/?start=2026-04-01&end=2026-07-01").json()
    assert (everyone["customers_at_start"], everyone["retained"]) == (2, 2)  # A and C


@pytest.mark.parametrize("query, field", [
    ("end=2026-07-01", "start"),
    ("start=2026-04-01", "end"),
    ("start=April&end=2026-07-01", "start"),
    ("start=2026-04-01&end=2026-02-30", "end"),
    ("start=2026-07-01&end=2026-04-01", "end"),
    ("start=2026-04-01&end=2026-04-01", "end"),
    ("start=0001-01-01&end=2026-04-01", "start"),
    ("start=2026-04-01&end=2026-07-01&window=0", "window"),
    ("start=2026-04-01&end=2026-07-01&window=-5", "window"),
    ("start=2026-04-01&end=2026-07-01&window=99999999999999999999", "window"),
    ("start=2026-04-01&end=2026-07-01&window=ninety", "window"),
    ("start=2026-04-01&end=2026-07-01&segment=vip", "segment"),
])
def test_bad_metric_queries_are_a_400_naming_the_field(api, shop, query, field):
    body = assert_problem(api.get(f"{URL}tehran/metrics/?{query}"), 400)
    assert field in body["errors"], body


@pytest.mark.parametrize("start, end, window", [
    ("April", "2026-07-01", ""), ("2026-07-01", "2026-04-01", ""), ("0001-01-01", "2026-04-01", ""),
    ("2026-04-01", "2026-07-01", "0"), ("2026-04-01", "2026-07-01", "ninety"),
])
def test_a_bad_period_reads_as_in_the_admin_and_the_commands(api, shop, start, end, window):
    """The API checks the period with analytics.periods.Period, as the admin and the commands do."""
    from django.core.exceptions import ValidationError

    from analytics.periods import Period

    with pytest.raises(ValidationError) as error:
        Period.parse(start=start, end=end, window=window)
    body = assert_problem(api.get(f"{URL}tehran/metrics/", {"start": start, "end": end, "window": window}), 400)
    assert body["errors"] == error.value.message_dict


def test_metrics_need_the_metrics_read_scope(make_client, shop):
    body = assert_problem(make_client("segments:read").get(f"{URL}tehran/metrics/?start=2026-04-01&end=2026-07-01"), 403)
    assert body["scope"] == "metrics:read" and "metrics:read" in body["detail"]


def test_the_schema_documents_the_metrics_as_the_command_prints_them(api, shop):
    from rest_framework.test import APIClient

    schema = APIClient().get("/api/schema/?format=json").json()
    for path in ("/api/v1/segments/", "/api/v1/segments/{slug}/", "/api/v1/segments/{slug}/customers/",
                 "/api/v1/segments/{slug}/metrics/"):
        assert "get" in schema["paths"][path], path
    metrics = schema["paths"]["/api/v1/segments/{slug}/metrics/"]["get"]
    assert {p["name"] for p in metrics["parameters"]} >= {"start", "end", "window", "slug"}
    documented = list(schema["components"]["schemas"]["Retention"]["properties"])
    assert documented == [key for key, _value in command_json("--segment", "all", "--start", "2026-04-01",
                                                                "--end", "2026-07-01")]
    page = schema["paths"]["/api/v1/segments/{slug}/customers/"]["get"]["responses"]["200"]["content"]
    assert page["application/json"]["schema"]["$ref"].endswith("/PaginatedCustomerList")


@pytest.mark.parametrize("path", ["%00/", "a%00b/customers/", "t%C2%87%0A/customers/", "x%0A/", "x%00/metrics/?start=2026-04-01&end=2026-07-01"])
def test_a_slug_with_a_nul_character_is_404_not_a_server_error(api, shop, path):
    assert_problem(api.get(f"{URL}{path}"), 404)
