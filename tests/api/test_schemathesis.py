"""Property-based run of every operation of the OpenAPI schema (schemathesis), in-process.

The schema is the one `/api/schema/` serves (drf-spectacular's generator), so every endpoint
that exists is tested, including ones added later. Each operation is one pytest test: valid and
invalid requests (positive and negative generation) sent with a key holding every scope to the
Django WSGI application, inside the test's transaction, with a few customers, members, orders,
an offer, a coupon, a survey and a segment in the database. Path ids and ids in request bodies
are often swapped for real ones, so the requests reach the objects and not only the 404s.

Every response must: not be a server error, use a documented status code, have the documented
content type and headers, and match the documented body schema.
"""

from datetime import timedelta
from decimal import Decimal

import hypothesis
import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import strategies as st
from rest_framework.utils import json
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from werkzeug.test import Client as WerkzeugClient

from api import services as api_services
from api.scopes import SCOPES
from club import services as club_services
from crm import services as crm_services
from crm.services import LineInput
from feedback.services import returns as return_services
from tests.api.helpers import assert_problem
from tests.campaigns.helpers import static_segment

API_PREFIX = "/api/v1/"
MAX_EXAMPLES = 10
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


def _openapi_document() -> dict:
    """The document `/api/schema/?format=json` serves, built without a request (no database needed)."""
    document = SchemaGenerator().get_schema(request=None, public=True)
    return json.loads(OpenApiJsonRenderer().render(document))


schema = schemathesis.openapi.from_dict(
    _openapi_document(),
    config=schemathesis.Config.from_dict({
        "generation": {"mode": "all"},  # valid and invalid requests
        # The coverage phase alone sends hundreds of requests per operation; the suite keeps to
        # explicit examples and bounded fuzzing.
        "phases": {"coverage": {"enabled": False}},
    }),
)
schema.app = get_wsgi_application()

# Real objects of the running test, read by the generation hooks below (filled by `api_world`):
# "paths": {collection path or parameter name: [ids]}, "slugs": {collection path: [slugs]},
# "body": {body field: [values]}.
WORLD: dict = {"paths": {}, "slugs": {}, "body": {}}


@pytest.fixture
def in_process_wsgi():
    """Django closes the connection at the end of each request; inside the test's transaction it
    must stay open (Django's own test client does the same)."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


def _harvest(headers: dict) -> tuple[dict, dict]:
    """The ids (and slugs) every collection of the schema lists, whatever collections exist:
    `/api/v1/returns/{return_id}/` then gets real return ids without this file knowing returns.
    (Through the WSGI app like the cases: Django's test client would reconnect the signal that
    closes the connection.)"""
    client = WerkzeugClient(schema.app)
    ids, slugs = {}, {}
    for path, operations in schema.raw_schema["paths"].items():
        if "{" in path or "get" not in operations:
            continue
        response = client.get(path, query_string={"page_size": 20}, headers=headers)
        if response.status_code != 200 or "json" not in response.headers.get("Content-Type", ""):
            continue
        body = response.get_json()
        rows = body.get("results", []) if isinstance(body, dict) else body
        rows = [row for row in rows if isinstance(row, dict)] if isinstance(rows, list) else []
        ids[path] = [str(row["id"]) for row in rows if row.get("id") is not None]
        slugs[path] = [str(row["slug"]) for row in rows if row.get("slug")]
    return ids, slugs


@pytest.fixture
def api_world(db, settings, tiers, purchase_rule, offer, survey, in_process_wsgi):  # noqa: F811
    """A few of everything, and a key with every scope. Returns the Authorization header."""
    settings.API_RATE_LIMIT = "100000/min"  # 429s are tested elsewhere; here they would hide the rest
    partner = api_services.partner_create(name="Schemathesis shop")
    _key, secret = api_services.api_key_create(partner=partner, scopes=SCOPES)
    headers = {"Authorization": f"Api-Key {secret}"}
    now = timezone.now()
    customers = []
    for index, (first, email, phone, language) in enumerate([
        ("Sara", "sara@example.com", "+989121234567", "fa"),
        ("Omar", "omar@example.com", "+971501234567", "ar"),
        ("Emma", "emma@example.com", None, "en"),
    ]):
        customer = crm_services.customer_create(
            first_name=first, last_name="Test", email=email, phone=phone, language=language, city="Tehran",
            external_ref=f"EXT-{index}", email_opt_in=True, consent_source="test",
        )
        api_services.partner_customer_share(partner=partner, customer=customer, created=True)
        customers.append(customer)
    members = [club_services.member_enroll(customer=customer) for customer in customers[:2]]
    orders = []
    for index, customer in enumerate(customers):
        orders.append(crm_services.order_create(
            customer=customer, order_number=f"SCH-{index}", placed_at=now - timedelta(days=3 + index), total="300.00",
            source=f"partner:{partner.pk}",
            lines=[LineInput(sku="BEANS", product_name="Beans", category="coffee", quantity=2, unit_price=Decimal("100")),
                   LineInput(sku="MUG", product_name="Mug", category="kitchen", quantity=1, unit_price=Decimal("100"))],
        ))
    club_services.points_adjust(member=members[0], points=1000, reason="test credit", by=None)
    coupon = club_services.offer_redeem(member=members[0], offer=offer)
    static_segment("regulars", customers[:2])
    first_line = orders[0].lines.order_by("id").first()
    return_services.return_request_create(
        order=orders[0], lines=[return_services.LineRequest(order_line_id=first_line.pk, quantity=1, reason="damaged")],
    )

    customer_ids = [str(customer.public_id) for customer in customers]
    ids, slugs = _harvest(headers)
    WORLD["paths"] = {
        **ids,
        "customer_id": customer_ids,  # club/members/{customer_id}/...: no list of members
        f"{API_PREFIX}club/members/": [str(member.customer.public_id) for member in members],
    }
    WORLD["slugs"] = slugs
    WORLD["body"] = {
        "customer": customer_ids,
        "order": [str(order.public_id) for order in orders],
        "order_line": [str(line.public_id) for line in orders[0].lines.all()],
        "offer": [str(offer.public_id)],
        "code": [coupon.code],
        "survey": [str(survey.public_id)],
    }
    yield headers
    WORLD["paths"], WORLD["slugs"], WORLD["body"] = {}, {}, {}


def _real_values(path: str, name: str) -> list:
    """Real values for the path parameter `name` of `path`: from the collection the path starts
    with (`/api/v1/orders/{id}/cancel/` -> the orders' ids), else by the parameter's name."""
    collection = path.split("{", 1)[0]
    if name == "slug" or name.endswith("_slug"):
        return WORLD["slugs"].get(collection, [])
    return WORLD["paths"].get(collection) or WORLD["paths"].get(name, [])


@schema.hook
def flatmap_path_parameters(context, path_parameters):
    if not path_parameters or not WORLD["paths"] or context.operation is None:
        return st.just(path_parameters)
    choices = {}
    for name in path_parameters:
        values = _real_values(context.operation.path, name)
        if values:
            choices[name] = st.sampled_from(values)
    if not choices:
        return st.just(path_parameters)
    # Mostly real ids (reach the objects), sometimes the generated ones (reach the 404s).
    return st.one_of(
        st.fixed_dictionaries(choices).map(lambda chosen: {**path_parameters, **chosen}),
        st.just(path_parameters),
    )


@schema.hook
def flatmap_body(context, body):
    if not isinstance(body, dict) or not WORLD["body"]:
        return st.just(body)
    choices = {
        name: st.one_of(st.sampled_from(values), st.just(body[name]))
        for name, values in WORLD["body"].items() if name in body and values
    }
    if not choices:
        return st.just(body)
    return st.fixed_dictionaries(choices).map(lambda chosen: {**body, **chosen})


@schema.parametrize()
@hypothesis.settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,  # the same cases on every run: a red suite is reproducible
    database=None,
    suppress_health_check=list(hypothesis.HealthCheck),
)
def test_every_operation_answers_as_documented(case, api_world):
    case.call_and_validate(headers=api_world, checks=CHECKS)


@pytest.mark.parametrize("placed_at", [
    "0001-01-03T00:00:00Z",
    "9999-12-31T23:59:59Z",
])
def test_an_order_dated_at_the_ends_of_the_calendar_is_refused_not_a_500(api, customer, placed_at):
    """Found by the run above: date arithmetic on such dates (the campaigns' conversion window,
    the return window) overflows."""
    response = api.post("/api/v1/orders/", {
        "customer": str(customer.public_id), "order_number": "EDGE-1", "placed_at": placed_at, "total": "10.00",
    }, format="json")
    assert response.status_code in (201, 400), response.content
    if response.status_code == 400:
        assert_problem(response, 400)
