import pytest

from api.models import PartnerCustomer
from crm.models import ConsentChange, Customer
from tests.api.helpers import assert_problem
from tests.factories import CustomerFactory

URL = "/api/v1/customers/"


def test_it_creates_a_customer_through_the_service_and_links_it_to_the_partner(api, partner):
    response = api.post(URL, {
        "external_ref": "SHOP-1", "first_name": "Zahra", "last_name": "Karimi", "email": "Zahra@Example.com",
        "phone": "+989121112233", "language": "fa", "city": "Shiraz", "tags": ["vip"], "email_opt_in": True,
    }, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    customer = Customer.objects.get(public_id=body["id"])
    assert body["email"] == "zahra@example.com" and body["language"] == "fa" and body["tags"] == ["vip"]
    assert body["phone"] == "+989121112233" and body["orders_count"] == 0 and body["total_spent"] == "0.00"
    assert PartnerCustomer.objects.filter(partner=partner, customer=customer, created=True).exists()
    assert ConsentChange.objects.get(customer=customer).source == "api"


def test_it_reads_and_partially_updates_a_customer_but_not_server_owned_fields(api, customer):
    url = f"{URL}{customer.public_id}/"
    assert api.get(url).json()["email"] == "sara@example.com"
    response = api.patch(url, {"city": "Tabriz", "tags": ["coffee", "tea"]}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["city"] == "Tabriz" and sorted(response.json()["tags"]) == ["coffee", "tea"]
    body = assert_problem(api.patch(url, {"orders_count": 99, "id": "x"}, format="json"), 400)
    assert set(body["errors"]) == {"orders_count", "id"}
    customer.refresh_from_db()
    assert customer.orders_count == 0


def test_unicode_text_is_stored_as_sent(api):
    response = api.post(URL, {"email": "ali@example.com", "first_name": "علی", "last_name": "رضایی 🙂",
                              "notes": "مشتری وفادار\u200c", "city": "اصفهان"}, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["last_name"] == "رضایی 🙂"


@pytest.mark.parametrize("payload, field", [
    ({"email": "not-an-email"}, "email"),
    ({"email": "a@example.com", "birth_date": "yesterday"}, "birth_date"),
    ({"email": "a@example.com", "tags": "vip"}, "tags"),
    ({"email": "a@example.com", "email_opt_in": "perhaps"}, "email_opt_in"),
    ({"email": "a@example.com", "language": "xx"}, "language"),
    ({"email": "a@example.com", "first_name": "x" * 101}, "first_name"),
    ({"email": "a@example.com", "favourite_colour": "blue"}, "favourite_colour"),
    ({"email": "a@example.com", "phone": "12"}, "phone"),
    ({"first_name": "Nobody"}, "non_field_errors"),
    ({"email": "a@example.com", "first_name": 10 ** 400}, "first_name"),
])
def test_bad_input_is_a_400_problem_naming_the_field(api, payload, field):
    body = assert_problem(api.post(URL, payload, format="json"), 400)
    assert field in body["errors"], body
    assert not Customer.objects.exists()


def test_a_duplicate_email_is_a_400_problem(api, customer):
    body = assert_problem(api.post(URL, {"email": "SARA@example.com"}, format="json"), 400)
    assert body["errors"]


@pytest.mark.parametrize("raw", ['{"email": ', "[1, 2]", '"text"', "1" * 5000, '{"email": NaN}'])
def test_malformed_json_is_a_400_problem(api, raw):
    response = api.generic("POST", URL, raw, content_type="application/json")
    assert_problem(response, 400)


def test_a_body_that_is_not_json_is_415(api):
    assert_problem(api.generic("POST", URL, "email=a@example.com", content_type="application/x-www-form-urlencoded"), 415)


def test_a_detail_id_that_is_not_a_uuid_is_404(api):
    assert_problem(api.get(f"{URL}12/"), 404)
    assert_problem(api.get(f"{URL}00000000-0000-0000-0000-000000000000/"), 404)


def test_filters_find_customers(api):
    first = CustomerFactory(email="one@example.com", city="Tehran", external_ref="R1", phone="+989121234500")
    CustomerFactory(email="two@example.com", city="Shiraz")
    api.patch(f"{URL}{first.public_id}/", {"tags": ["vip"]}, format="json")

    def ids(query):
        response = api.get(f"{URL}?{query}")
        assert response.status_code == 200, response.content
        return [row["id"] for row in response.json()["results"]]

    expected = [str(first.public_id)]
    assert ids("email=ONE@example.com") == expected
    assert ids("external_ref=R1") == expected
    assert ids("city=tehran") == expected
    assert ids("tag=vip") == expected
    assert ids("phone=%2B989121234500") == expected
    assert len(ids("updated_since=2000-01-01T00:00:00Z")) == 2
    assert_problem(api.get(f"{URL}?updated_since=soon"), 400)


def test_the_list_pages_with_a_cursor(api):
    CustomerFactory.create_batch(5)
    page = api.get(f"{URL}?page_size=2").json()
    assert len(page["results"]) == 2 and page["next"]
    seen = [row["id"] for row in page["results"]]
    while page["next"]:
        page = api.get(page["next"]).json()
        seen += [row["id"] for row in page["results"]]
    assert len(seen) == len(set(seen)) == 5
    assert "count" not in page


def test_the_list_runs_a_constant_number_of_queries(api, django_assert_num_queries):
    api.get(URL)  # the first call records the key's use
    CustomerFactory.create_batch(3)
    for customer in Customer.objects.all():
        api.patch(f"{URL}{customer.public_id}/", {"tags": ["a", "b"]}, format="json")
    api.get(URL)
    # page, tags, call log (the key is remembered: api.keys)
    with django_assert_num_queries(3):
        assert len(api.get(f"{URL}?page_size=2").json()["results"]) == 2
    with django_assert_num_queries(3):
        assert len(api.get(f"{URL}?page_size=50").json()["results"]) == 3


def test_an_own_data_only_key_sees_only_its_partners_customers(make_client, partner, other_partner):
    mine = make_client("customers:read", "customers:write", own_data_only=True)
    theirs = make_client("customers:read", "customers:write", own_data_only=True, for_partner=other_partner)
    created = mine.post(URL, {"email": "mine@example.com"}, format="json").json()
    stranger = CustomerFactory(email="stranger@example.com")

    assert [row["id"] for row in mine.get(URL).json()["results"]] == [created["id"]]
    assert theirs.get(URL).json()["results"] == []
    assert theirs.get(f"{URL}?email=mine@example.com").json()["results"] == []
    assert_problem(theirs.get(f"{URL}{created['id']}/"), 404)
    assert_problem(theirs.patch(f"{URL}{created['id']}/", {"city": "X"}, format="json"), 404)
    assert_problem(mine.get(f"{URL}{stranger.public_id}/"), 404)
    # A key that is not limited sees everyone.
    assert len(make_client("customers:read").get(URL).json()["results"]) == 2


def test_an_own_data_only_list_runs_a_constant_number_of_queries(make_client, django_assert_num_queries):
    client = make_client("customers:read", "customers:write", own_data_only=True)
    for n in range(3):
        client.post(URL, {"email": f"c{n}@example.com", "tags": ["t"]}, format="json")
    client.get(URL)
    with django_assert_num_queries(3):
        assert len(client.get(URL).json()["results"]) == 3


def test_the_fast_rendering_of_a_customer_matches_the_declared_fields(db):
    """CustomerSerializer builds its output by hand for speed; it must say exactly what DRF's fields would."""
    from datetime import date, datetime
    from decimal import Decimal
    from zoneinfo import ZoneInfo

    from django.utils import timezone

    from api.serializers import CustomerSerializer
    from crm.models import Tag

    full = CustomerFactory(
        external_ref="EXT-1", phone="+989121234567", birth_date=date(1990, 2, 28), gender=Customer.Gender.choices[0][0],
        language="fa", notes="یادداشت", acquired_at=datetime(2024, 1, 2, 3, 4, 5, 678901, tzinfo=ZoneInfo("UTC")),
        orders_count=3, total_spent=Decimal("1234.5"),
        first_order_at=datetime(2024, 3, 1, 12, tzinfo=ZoneInfo("Asia/Tehran")), last_order_at=timezone.now(),
    )
    full.tags.add(Tag.objects.create(name="vip"), Tag.objects.create(name="online"))
    bare = CustomerFactory(email=None, external_ref="EXT-2", first_name="", city="", country="")
    for zone in ("UTC", "Asia/Tehran"):
        with timezone.override(ZoneInfo(zone)):
            for customer in Customer.objects.filter(pk__in=[full.pk, bare.pk]).prefetch_related("tags"):
                serializer = CustomerSerializer()
                assert serializer.to_representation(customer) == serializer.to_representation_by_fields(customer)


def test_an_email_another_customer_has_is_a_400_on_the_email_that_names_no_constraint(api, customer):
    problem = assert_problem(api.post("/api/v1/customers/", {"first_name": "Other", "email": customer.email.upper()},
                                      format="json"), 400)
    assert problem["errors"] == {"email": ["A customer with this email already exists."]}
    assert "constraint" not in str(problem).lower()
    assert Customer.objects.count() == 1
