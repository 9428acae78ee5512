import re

import pytest
from django.contrib.auth.models import Group
from rest_framework.test import APIClient

from core import roles


@pytest.mark.django_db
def test_the_openapi_schema_is_served_without_a_key():
    response = APIClient().get("/api/schema/?format=json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    for path in ("/api/v1/customers/", "/api/v1/orders/", "/api/v1/club/enroll/", "/api/v1/coupons/redeem/"):
        assert path in schema["paths"]
    assert schema["components"]["securitySchemes"]["ApiKeyAuth"]["name"] == "Authorization"
    customer = schema["components"]["schemas"]["Customer"]["properties"]
    assert {"id", "external_ref", "language", "tags", "orders_count"} <= set(customer)


@pytest.mark.django_db
def test_the_docs_page_loads_no_external_files():
    response = APIClient().get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger-ui" in html
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sources and all(not re.match(r"^(https?:)?//", source) for source in sources), sources
    # No known CDN host anywhere in the page (inline scripts included).
    assert not re.search(r"cdn\.jsdelivr|unpkg\.com|cdnjs\.|googleapis\.com|cloudflare", html, re.IGNORECASE)


@pytest.mark.django_db
def test_no_staff_role_may_see_partners_or_keys(django_db_setup):
    for role in roles.ROLES:
        group = Group.objects.filter(name=role).first()
        if group is not None:
            assert not group.permissions.filter(content_type__app_label="api").exists()
        assert not any(perm.startswith("api.") for perm in roles.declared_permissions(role))


def _schema() -> dict:
    response = APIClient().get("/api/schema/?format=json")
    assert response.status_code == 200
    return response.json()


@pytest.mark.django_db
def test_every_operation_documents_the_problem_details_it_can_answer():
    schema = _schema()
    operations = [(method.upper(), path, operation) for path, item in schema["paths"].items()
                  for method, operation in item.items() if path.startswith("/api/v1/")]
    assert len(operations) > 10
    for method, path, operation in operations:
        responses = operation["responses"]
        expected = {"400", "401", "403", "404", "429"}
        if method in ("POST", "PATCH"):
            expected |= {"409", "415", "422"}
        assert expected <= set(responses), (method, path, sorted(responses))
        for code, response in responses.items():
            if int(code) >= 400:
                assert set(response.get("content", {})) <= {"application/problem+json"}, (method, path, code)
    problem = schema["components"]["schemas"]["Problem"]
    assert {"type", "title", "status", "detail"} <= set(problem["required"])


@pytest.mark.django_db
def test_strict_request_bodies_and_decimal_strings_are_documented_as_the_api_checks_them():
    components = _schema()["components"]["schemas"]
    # StrictSerializer refuses unknown fields: the request schemas say so.
    assert components["CustomerRequest"]["additionalProperties"] is False
    assert components["OrderRequest"]["additionalProperties"] is False
    # A decimal string has at least one digit, and no sign where the minimum is 0.
    total = re.compile(components["OrderRequest"]["properties"]["total"]["pattern"])
    assert total.match("620.00") and total.match("5")
    for refused in ("", "-", ".", "-1.00", "1.234", "1e3"):
        assert not total.match(refused), refused


KNOWN_INTEGER_IDS: set[tuple[str, str]] = set()


@pytest.mark.django_db
def test_the_api_names_objects_by_public_ids_only():
    schema = APIClient().get("/api/schema/?format=json").json()
    named = {"id", "offer", "survey", "transaction", "response", "invitation", "order", "customer", "line", "order_line"}
    integer_ids = {
        (component, name)
        for component, spec in schema["components"]["schemas"].items()
        for name, field in (spec.get("properties") or {}).items()
        if name in named and field.get("type") == "integer"
    }
    assert integer_ids == KNOWN_INTEGER_IDS
    path_integers = [(path, parameter["name"]) for path, operations in schema["paths"].items()
                     for operation in operations.values() if isinstance(operation, dict)
                     for parameter in operation.get("parameters", [])
                     if parameter["in"] == "path" and parameter["schema"].get("type") == "integer"]
    assert path_integers == []


@pytest.mark.django_db
def test_a_refund_names_its_lines_by_their_public_ids_with_a_quantity():
    schema = _schema()
    body = schema["paths"]["/api/v1/orders/{id}/refund/"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/RefundRequest"}
    components = schema["components"]["schemas"]
    refund = components["RefundRequest"]
    assert refund["required"] == ["amount"] and refund["additionalProperties"] is False
    assert refund["properties"]["lines"]["items"] == {"$ref": "#/components/schemas/RefundLineRequest"}
    line = components["RefundLineRequest"]
    assert sorted(line["required"]) == ["line", "quantity"] and line["additionalProperties"] is False
    assert line["properties"]["line"]["format"] == "uuid"
    assert line["properties"]["quantity"]["minimum"] == 1


@pytest.mark.django_db
def test_the_served_schema_links_each_create_to_what_a_client_does_next_with_it():
    """Clients (and the stateful schemathesis run) follow these links with the ids an answer gives."""
    schema = APIClient().get("/api/schema/?format=json").json()
    operations = {op["operationId"]: op for methods in schema["paths"].values() for op in methods.values()}

    def links(operation_id, code):
        return {name: link for name, link in operations[operation_id]["responses"][code].get("links", {}).items()}

    customer_links = links("customers_create", "201")
    assert customer_links["CustomersRetrieve"] == {"operationId": "customers_retrieve", "parameters": {"id": "$response.body#/id"}}
    assert {"CustomersPartialUpdate", "CustomersConsentsCreate", "CustomersInteractionsCreate", "CustomersTimelineRetrieve",
            "ClubEnrollCreate", "OrdersCreate"} <= set(customer_links)
    assert customer_links["OrdersCreate"]["requestBody"] == {"customer": "$response.body#/id"}
    assert {"OrdersRetrieve", "OrdersCancelCreate", "OrdersRefundCreate", "ReturnsCreate"} <= set(links("orders_create", "201"))
    assert links("returns_create", "201")["ReturnsRetrieve"]["parameters"] == {"return_id": "$response.body#/id"}
    assert {"WebhooksRetrieve", "WebhooksDestroy"} <= set(links("webhooks_create", "201"))
    assert links("club_enroll_create", "201")["ClubMembersRedeemCreate"]["parameters"] == {"customer_id": "$response.body#/id"}
    assert links("club_members_redeem_create", "201")["CouponsRedeemCreate"]["requestBody"] == {"code": "$response.body#/code"}
    # Every link names an operation that exists.
    targets = {link["operationId"] for op in operations.values() for response in op["responses"].values()
               for link in response.get("links", {}).values()}
    assert targets <= set(operations)


@pytest.mark.django_db
def test_the_page_size_of_every_list_is_documented_with_its_bounds(settings):
    schema = APIClient().get("/api/schema/?format=json").json()
    sizes = [parameter["schema"] for methods in schema["paths"].values() for op in methods.values()
             for parameter in op.get("parameters", []) if parameter["name"] == "page_size"]
    assert sizes and all(size["minimum"] == 1 and size["maximum"] == settings.API_MAX_PAGE_SIZE for size in sizes)


@pytest.mark.django_db
def test_the_limits_the_api_checks_on_lists_and_query_values_are_documented():
    """Found by the schemathesis run: the schema allowed values the API refuses with a 400."""
    schema = _schema()
    components = schema["components"]["schemas"]
    # A return's lines and a webhook's events may not be empty.
    assert components["ReturnCreateRequest"]["properties"]["lines"]["minItems"] == 1
    assert components["WebhookSubscriptionRequest"]["properties"]["events"]["minItems"] == 1

    def query(path):
        return {parameter["name"]: parameter for parameter in schema["paths"][path]["get"]["parameters"]
                if parameter["in"] == "query"}

    metrics = query("/api/v1/segments/{slug}/metrics/")
    assert metrics["window"]["schema"] == {"type": "integer", "minimum": 1, "maximum": 3650}
    assert "1900-2200" in metrics["start"]["description"] and "after `start`" in metrics["end"]["description"]
    lookup = query("/api/v1/customers/lookup/")
    assert {name: parameter["schema"].get("maxLength") for name, parameter in lookup.items()} == {
        "email": 254, "phone": 32, "external_ref": 100,
    }
    assert "exactly one" in lookup["email"]["description"]


@pytest.mark.django_db
def test_the_enrolment_documents_the_code_and_its_202():
    schema = APIClient().get("/api/schema/", {"format": "json"}).json()
    enrol = schema["paths"]["/api/v1/club/enroll/"]["post"]
    assert enrol["responses"]["202"]["content"]["application/json"]["schema"]["$ref"].endswith("/EnrolConfirmationSent")
    sent = schema["components"]["schemas"]["EnrolConfirmationSent"]
    assert set(sent["required"]) == {"status", "channel", "expires_at"}
    request = schema["components"]["schemas"][enrol["requestBody"]["content"]["application/json"]["schema"]["$ref"]
                                              .rsplit("/", 1)[1]]
    assert {"customer", "member_number", "confirmation_code"} <= set(request["properties"])
