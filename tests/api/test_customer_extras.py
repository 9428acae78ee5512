"""customers/lookup/, customers/{id}/timeline/, .../interactions/ and .../consents/."""

from datetime import timedelta

import pytest
from django.utils import timezone

from crm import services as crm_services
from crm.models import ConsentChange, Interaction
from tests.api.helpers import assert_problem
from tests.factories import CustomerFactory

URL = "/api/v1/customers/"
LOOKUP = f"{URL}lookup/"


def url(customer, what):
    return f"{URL}{customer.public_id}/{what}/"


@pytest.fixture
def own_key(make_client):
    """An own-data-only key of the partner, and a customer it created (so it may see them)."""
    client = make_client(own_data_only=True)
    created = client.post(URL, {"email": "mine@example.com", "phone": "+989121110000"}, format="json")
    assert created.status_code == 201, created.content
    client.mine = created.json()["id"]
    return client


# --- lookup ---------------------------------------------------------------------------------------


def test_lookup_finds_a_customer_by_email_phone_or_external_ref(api, customer):
    customer.external_ref = "POS-77"
    customer.save()
    for query in ("email=SARA@example.com", "phone=%2B98%20912%20123%204567", "phone=%2B989121234567",
                  "external_ref=POS-77"):
        response = api.get(f"{LOOKUP}?{query}")
        assert response.status_code == 200, (query, response.content)
        assert response.json()["id"] == str(customer.public_id) and response.json()["email"] == "sara@example.com"


@pytest.mark.parametrize("phone", [
    "0912 123 4567", "09121234567", "0098 912 123 4567", "00989121234567", "912 123 4567", "+98 912 123 4567",
    "\u06f0\u06f9\u06f1\u06f2\u06f1\u06f2\u06f3\u06f4\u06f5\u06f6\u06f7",  # Persian digits
])
def test_lookup_and_the_list_read_every_usual_form_of_a_phone_number(api, customer, phone, settings):
    settings.PHONENUMBER_DEFAULT_REGION = "IR"
    CustomerFactory(email="other@example.com", phone="+989351112233")
    response = api.get(LOOKUP, {"phone": phone})
    assert response.status_code == 200, (phone, response.content)
    assert response.json()["id"] == str(customer.public_id)
    listed = api.get(URL, {"phone": phone})
    assert [row["id"] for row in listed.json()["results"]] == [str(customer.public_id)]


def test_without_a_default_region_a_national_number_is_a_400_not_a_guess(api, customer, settings):
    settings.PHONENUMBER_DEFAULT_REGION = None
    assert api.get(LOOKUP, {"phone": "0098 912 123 4567"}).status_code == 200
    body = assert_problem(api.get(LOOKUP, {"phone": "0912 123 4567"}), 400)
    assert "phone" in body["errors"]


def test_lookup_of_an_unknown_identifier_is_404(api, customer):
    assert_problem(api.get(f"{LOOKUP}?email=nobody@example.com"), 404)
    assert_problem(api.get(f"{LOOKUP}?external_ref=NOPE"), 404)
    assert_problem(api.get(f"{LOOKUP}?phone=%2B989129999999"), 404)


@pytest.mark.parametrize("query, field", [
    ("", "non_field_errors"),
    ("email=sara@example.com&external_ref=X", "non_field_errors"),
    ("phone=12", "phone"),
    ("email=not-an-email", "email"),
    ("nickname=sara", "nickname"),
    (f"external_ref={'x' * 101}", "external_ref"),
])
def test_lookup_with_bad_input_is_a_400_naming_the_field(api, customer, query, field):
    body = assert_problem(api.get(f"{LOOKUP}?{query}"), 400)
    assert field in body["errors"], body


def test_lookup_by_a_phone_several_customers_share_is_a_409(api, customer):
    CustomerFactory(email="brother@example.com", phone="+989121234567")
    body = assert_problem(api.get(f"{LOOKUP}?phone=%2B989121234567"), 409)
    assert "phone" in body["detail"]


def test_lookup_needs_the_customers_read_scope(make_client, customer):
    body = assert_problem(make_client("orders:write").get(f"{LOOKUP}?email=sara@example.com"), 403)
    assert body["scope"] == "customers:read" and "customers:read" in body["detail"]


def test_an_own_data_only_key_finds_only_its_customers(own_key, customer):
    assert own_key.get(f"{LOOKUP}?email=mine@example.com").json()["id"] == own_key.mine
    assert_problem(own_key.get(f"{LOOKUP}?email=sara@example.com"), 404)
    assert_problem(own_key.get(f"{LOOKUP}?phone=%2B989121234567"), 404)


# --- timeline -------------------------------------------------------------------------------------


def test_the_timeline_lists_orders_interactions_and_consent_newest_first(api, customer, place_order):
    place_order(customer, days_ago=3, order_number="A-1")
    crm_services.interaction_log(customer=customer, subject="Asked about delivery",
                                 occurred_at=timezone.now() - timedelta(days=2))
    crm_services.consent_set(customer=customer, channel="email", granted=True, source="admin")
    response = api.get(url(customer, "timeline"))
    assert response.status_code == 200, response.content
    entries = response.json()["results"]
    assert [entry["kind"] for entry in entries] == ["consent", "interaction", "order"]
    assert "A-1" in entries[2]["title"] and entries[2]["extra"]["channel"]
    assert "Asked about delivery" in entries[1]["title"]
    assert all("staff" not in entry["extra"] and "url" not in entry for entry in entries)
    whens = [entry["when"] for entry in entries]
    assert whens == sorted(whens, reverse=True)


def test_the_timeline_can_be_limited_and_filtered_by_kind(api, customer, place_order):
    for n in range(3):
        place_order(customer, days_ago=n + 1)
    crm_services.interaction_log(customer=customer, subject="Call")
    assert len(api.get(f"{url(customer, 'timeline')}?limit=2").json()["results"]) == 2
    kinds = {entry["kind"] for entry in api.get(f"{url(customer, 'timeline')}?kinds=order").json()["results"]}
    assert kinds == {"order"}


@pytest.mark.parametrize("query, field", [
    ("limit=0", "limit"), ("limit=201", "limit"), ("limit=many", "limit"), ("kinds=order,gossip", "kinds"),
    ("colour=red", "colour"),
])
def test_a_bad_timeline_query_is_a_400_naming_the_field(api, customer, query, field):
    body = assert_problem(api.get(f"{url(customer, 'timeline')}?{query}"), 400)
    assert field in body["errors"], body


def test_the_timeline_runs_a_constant_number_of_queries(api, customer, place_order, django_assert_num_queries):
    api.get(url(customer, "timeline"))  # the first call records the key's use

    def count_queries():
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as context:
            assert api.get(url(customer, "timeline")).status_code == 200
        return len(context)

    place_order(customer, days_ago=2)
    crm_services.interaction_log(customer=customer, subject="One")
    few = count_queries()
    for n in range(5):
        place_order(customer, days_ago=n + 3)
        crm_services.interaction_log(customer=customer, subject=f"Call {n}")
    with django_assert_num_queries(few):
        assert len(api.get(url(customer, "timeline")).json()["results"]) == 12


def test_the_timeline_of_an_unknown_or_invisible_customer_is_404(api, own_key, customer):
    assert_problem(api.get(f"{URL}00000000-0000-0000-0000-000000000000/timeline/"), 404)
    assert_problem(api.get(f"{URL}not-a-uuid/timeline/"), 404)
    assert_problem(own_key.get(url(customer, "timeline")), 404)
    assert own_key.get(f"{URL}{own_key.mine}/timeline/").status_code == 200


def test_the_timeline_needs_the_customers_read_scope(make_client, customer):
    assert assert_problem(make_client("club:read").get(url(customer, "timeline")), 403)["scope"] == "customers:read"


# --- interactions ---------------------------------------------------------------------------------


def test_a_partner_logs_an_interaction_through_the_crm_service(api, customer, place_order):
    order = place_order(customer)
    response = api.post(url(customer, "interactions"), {
        "channel": "chat", "subject": "Where is my parcel? 📦", "body": "سفارش من کجاست؟", "status": "open",
        "order": str(order.public_id), "follow_up_on": "2026-12-01",
    }, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    interaction = Interaction.objects.get(public_id=body["id"])
    assert interaction.customer == customer and interaction.order == order and interaction.status == "open"
    assert body["order"] == str(order.public_id) and body["subject"] == "Where is my parcel? 📦"
    assert body["resolved_at"] is None and body["direction"] == "inbound"
    resolved = api.post(url(customer, "interactions"), {"subject": "Thanks call", "direction": "outbound"}, format="json")
    assert resolved.status_code == 201 and resolved.json()["resolved_at"] and resolved.json()["channel"] == "phone"


def test_the_interactions_list_is_newest_first_and_paged(api, customer):
    for days in (3, 1, 2):
        crm_services.interaction_log(customer=customer, subject=f"{days} days ago",
                                     occurred_at=timezone.now() - timedelta(days=days))
    crm_services.interaction_log(customer=CustomerFactory(), subject="someone else")
    page = api.get(f"{url(customer, 'interactions')}?page_size=2").json()
    assert [row["subject"] for row in page["results"]] == ["1 days ago", "2 days ago"] and page["next"]
    assert [row["subject"] for row in api.get(page["next"]).json()["results"]] == ["3 days ago"]


def test_the_interactions_list_runs_a_constant_number_of_queries(api, customer, place_order, django_assert_num_queries):
    api.get(url(customer, "interactions"))
    order = place_order(customer)
    for n in range(4):
        crm_services.interaction_log(customer=customer, subject=f"Call {n}", order=order if n % 2 else None)
    # customer, page, call log (the key is remembered: api.keys)
    with django_assert_num_queries(3):
        assert len(api.get(f"{url(customer, 'interactions')}?page_size=1").json()["results"]) == 1
    with django_assert_num_queries(3):
        assert len(api.get(url(customer, "interactions")).json()["results"]) == 4


@pytest.mark.parametrize("payload, field", [
    ({}, "subject"),
    ({"subject": ""}, "subject"),
    ({"subject": "x" * 201}, "subject"),
    ({"subject": "Hi", "channel": "pigeon"}, "channel"),
    ({"subject": "Hi", "status": "done"}, "status"),
    ({"subject": "Hi", "occurred_at": "yesterday"}, "occurred_at"),
    ({"subject": "Hi", "order": "nope"}, "order"),
    ({"subject": "Hi", "order": "00000000-0000-0000-0000-000000000000"}, "order"),
    ({"subject": "Hi", "staff": 1}, "staff"),
    ({"subject": "Hi", "id": 5}, "id"),
    ({"subject": ["Hi"]}, "subject"),
])
def test_bad_interactions_are_a_400_naming_the_field(api, customer, payload, field):
    body = assert_problem(api.post(url(customer, "interactions"), payload, format="json"), 400)
    assert field in body["errors"], body
    assert not Interaction.objects.exists()


def test_an_interaction_cannot_name_another_customers_order(api, customer, place_order):
    order = place_order(CustomerFactory())
    body = assert_problem(api.post(url(customer, "interactions"), {"subject": "Hi", "order": str(order.public_id)},
                                   format="json"), 400)
    assert "order" in body["errors"]


def test_logging_an_interaction_needs_the_interactions_write_scope(make_client, customer):
    client = make_client("customers:read", "customers:write")
    body = assert_problem(client.post(url(customer, "interactions"), {"subject": "Hi"}, format="json"), 403)
    assert body["scope"] == "interactions:write" and "interactions:write" in body["detail"]
    assert client.get(url(customer, "interactions")).status_code == 200
    writer = make_client("interactions:write")
    assert writer.post(url(customer, "interactions"), {"subject": "Hi"}, format="json").status_code == 201
    assert assert_problem(writer.get(url(customer, "interactions")), 403)["scope"] == "customers:read"


def test_an_interaction_posted_twice_with_one_idempotency_key_is_logged_once(api, customer):
    headers = {"HTTP_IDEMPOTENCY_KEY": "call-42"}
    first = api.post(url(customer, "interactions"), {"subject": "Call"}, format="json", **headers)
    second = api.post(url(customer, "interactions"), {"subject": "Call"}, format="json", **headers)
    assert first.status_code == second.status_code == 201
    assert second.json() == first.json() and second["Idempotent-Replayed"] == "true"
    assert Interaction.objects.count() == 1
    assert_problem(api.post(url(customer, "interactions"), {"subject": "Other"}, format="json", **headers), 422)


def test_an_own_data_only_key_sees_and_logs_interactions_of_its_customers_only(own_key, customer):
    crm_services.interaction_log(customer=customer, subject="private")
    assert_problem(own_key.get(url(customer, "interactions")), 404)
    assert_problem(own_key.post(url(customer, "interactions"), {"subject": "Hi"}, format="json"), 404)
    assert Interaction.objects.count() == 1
    mine = f"{URL}{own_key.mine}/interactions/"
    assert own_key.post(mine, {"subject": "Hi"}, format="json").status_code == 201
    assert [row["subject"] for row in own_key.get(mine).json()["results"]] == ["Hi"]


def test_an_interaction_for_an_unknown_customer_is_404(api):
    assert_problem(api.post(f"{URL}00000000-0000-0000-0000-000000000000/interactions/", {"subject": "Hi"},
                            format="json"), 404)
    assert_problem(api.get(f"{URL}12/interactions/"), 404)


# --- consent --------------------------------------------------------------------------------------


def test_a_consent_change_is_recorded_with_its_source(api, customer):
    response = api.post(url(customer, "consents"), {"channel": "sms", "granted": True, "source": "till-signup"},
                        format="json")
    assert response.status_code == 201, response.content
    assert response.json()["source"] == "api:till-signup" and response.json()["granted"] is True
    customer.refresh_from_db()
    assert customer.sms_opt_in is True
    change = ConsentChange.objects.get(customer=customer)
    assert (change.channel, change.granted, change.source) == ("sms", True, "api:till-signup")

    withdrawn = api.post(url(customer, "consents"), {"channel": "sms", "granted": False, "source": "phone call"},
                         format="json")
    assert withdrawn.status_code == 201
    customer.refresh_from_db()
    assert customer.sms_opt_in is False
    history = api.get(url(customer, "consents")).json()["results"]
    assert [(row["granted"], row["source"]) for row in history] == [(False, "api:phone call"), (True, "api:till-signup")]


def test_a_consent_that_already_has_the_value_is_not_recorded_again(api, customer):
    api.post(url(customer, "consents"), {"channel": "email", "granted": True, "source": "web"}, format="json")
    again = api.post(url(customer, "consents"), {"channel": "email", "granted": True, "source": "till"}, format="json")
    assert again.status_code == 200 and again.json()["source"] == "api:web"
    assert ConsentChange.objects.filter(customer=customer).count() == 1


@pytest.mark.parametrize("payload, field", [
    ({"granted": True, "source": "web"}, "channel"),
    ({"channel": "fax", "granted": True, "source": "web"}, "channel"),
    ({"channel": "email", "source": "web"}, "granted"),
    ({"channel": "email", "granted": "maybe", "source": "web"}, "granted"),
    ({"channel": "email", "granted": True}, "source"),
    ({"channel": "email", "granted": True, "source": ""}, "source"),
    ({"channel": "email", "granted": True, "source": "x" * 47}, "source"),
    ({"channel": "email", "granted": True, "source": "web", "changed_at": "2020-01-01"}, "changed_at"),
])
def test_bad_consent_changes_are_a_400_naming_the_field(api, customer, payload, field):
    body = assert_problem(api.post(url(customer, "consents"), payload, format="json"), 400)
    assert field in body["errors"], body
    assert not ConsentChange.objects.exists()


def test_consent_changes_need_customers_write_and_history_needs_customers_read(make_client, customer):
    reader = make_client("customers:read")
    body = assert_problem(reader.post(url(customer, "consents"), {"channel": "email", "granted": True, "source": "web"},
                                      format="json"), 403)
    assert body["scope"] == "customers:write"
    assert reader.get(url(customer, "consents")).status_code == 200
    assert assert_problem(make_client("interactions:write").get(url(customer, "consents")), 403)["scope"] == "customers:read"


def test_a_consent_change_posted_twice_with_one_idempotency_key_is_recorded_once(api, customer):
    body = {"channel": "email", "granted": True, "source": "web"}
    first = api.post(url(customer, "consents"), body, format="json", HTTP_IDEMPOTENCY_KEY="c-1")
    second = api.post(url(customer, "consents"), body, format="json", HTTP_IDEMPOTENCY_KEY="c-1")
    assert first.status_code == second.status_code == 201 and second["Idempotent-Replayed"] == "true"
    assert second.json() == first.json()
    assert ConsentChange.objects.count() == 1


def test_consent_of_another_partners_or_an_unknown_customer_is_404(own_key, api, customer):
    crm_services.consent_set(customer=customer, channel="email", granted=True, source="admin")
    assert_problem(own_key.get(url(customer, "consents")), 404)
    assert_problem(own_key.post(url(customer, "consents"), {"channel": "email", "granted": False, "source": "x"},
                                format="json"), 404)
    customer.refresh_from_db()
    assert customer.email_opt_in is True
    assert_problem(api.get(f"{URL}00000000-0000-0000-0000-000000000000/consents/"), 404)
    assert own_key.get(f"{URL}{own_key.mine}/consents/").json()["results"] == []


def test_the_consent_history_runs_a_constant_number_of_queries(api, customer, django_assert_num_queries):
    api.get(url(customer, "consents"))
    for granted in (True, False, True, False):
        crm_services.consent_set(customer=customer, channel="email", granted=granted, source="admin")
    with django_assert_num_queries(3):
        assert len(api.get(f"{url(customer, 'consents')}?page_size=1").json()["results"]) == 1
    with django_assert_num_queries(3):
        assert len(api.get(url(customer, "consents")).json()["results"]) == 4


@pytest.mark.parametrize("query", ["external_ref=a%00b", "email=a%00@example.com", "phone=%2B98%00912"])
def test_a_nul_character_in_a_lookup_is_a_400_not_a_server_error(api, customer, query):
    assert_problem(api.get(f"{LOOKUP}?{query}"), 400)


def test_the_schema_documents_the_customer_subresources(api):
    from rest_framework.test import APIClient

    schema = APIClient().get("/api/schema/?format=json").json()
    paths = schema["paths"]
    assert set(paths[f"{URL}{{id}}/interactions/"]) >= {"get", "post"}
    assert set(paths[f"{URL}{{id}}/consents/"]) >= {"get", "post"}
    assert "get" in paths[f"{URL}{{id}}/timeline/"] and "get" in paths[LOOKUP]
    post = paths[f"{URL}{{id}}/interactions/"]["post"]
    assert post["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("/InteractionRequest")
    assert "Idempotency-Key" in {p["name"] for p in post["parameters"]}
    listed = paths[f"{URL}{{id}}/interactions/"]["get"]
    assert {p["name"] for p in listed["parameters"]} == {"id", "cursor", "page_size"}  # no customer filters here
