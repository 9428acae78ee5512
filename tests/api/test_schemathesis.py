"""Property-based run of every operation of the OpenAPI schema (schemathesis), in-process.

The schema is the one `/api/schema/` serves (drf-spectacular's generator), so every endpoint
that exists is tested, including ones added later. Each operation is one pytest test: valid and
invalid requests (positive and negative generation) sent with a key holding every scope to the
Django WSGI application, inside the test's transaction, with a few customers, members, orders,
an offer, a coupon, a survey and a segment in the database. Path ids and ids in request bodies
are often swapped for real ones, so the requests reach the objects and not only the 404s; two
valid (positive) cases in three carry a body or query known to be accepted where one is written
below, since random text rarely passes the checks that guard the deep paths.

A stateful run follows the schema's OpenAPI links (create a customer, then read, update, enrol
and order for it; redeem an offer, then validate and redeem the coupon...), so generated sequences
reach the objects they created.

Every response must: not be a server error, use a documented status code, have the documented
content type and headers, and match the documented body schema. Every answer is counted per
operation; the last test checks the session sent at least MIN_CASES cases, that no operation
mostly answers 404 (a fuzzer that never finds the objects tests nothing behind the lookup) and
that no operation refuses most of its valid cases (then the schema documents values the API
refuses, or the fuzzer never gets past the checks).
"""

from collections import Counter, defaultdict
from datetime import timedelta
from decimal import Decimal

import hypothesis
import pytest
import schemathesis
from django.core import signals
from django.core.cache import cache
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections, transaction
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import strategies as st
from rest_framework.utils import json
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.parameters import ParameterLocation
from schemathesis.generation.stateful.state_machine import StepOutput
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from werkzeug.test import Client as WerkzeugClient

from api import services as api_services
from api.models import WebhookEvent
from api.scopes import SCOPES
from api.webhooks.subscriptions import webhook_subscribe
from campaigns.models import Automation
from club import services as club_services
from club.models import EarningRule
from crm import services as crm_services
from crm.models import Order, Product
from crm.services import LineInput
from feedback.services import returns as return_services
from tests.api.helpers import assert_problem
from tests.campaigns.helpers import static_segment
from tests.factories import CampaignFactory, EarningRuleFactory
from tests.factories.recommendations import give_picks, product

API_PREFIX = "/api/v1/"
MAX_EXAMPLES = 100  # per operation
STATEFUL_SCENARIOS, STATEFUL_STEPS = 100, 15  # scenarios, and steps at most in each
MIN_CASES = 5_000
MAX_VALID_REFUSED = 0.5  # share of the valid (positive) cases of one operation answered 400/422
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
# "valid": {operationId: {"body" or "query": strategy of values the operation accepts}}. The same in every
# example: Hypothesis replays examples while it searches, and a strategy that changed meanwhile would be "flaky".
WORLD: dict = {"paths": {}, "slugs": {}, "body": {}, "valid": {}}
WEBHOOKS = 3


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
    settings.API_WEBHOOK_MAX_SUBSCRIPTIONS = 10_000  # the limit is tested elsewhere; here it would refuse every create
    settings.API_WEBHOOK_ALLOW_INSECURE_URLS = True
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
    # The first order is fulfilled (it can be returned and refunded), the others still open: they can be
    # cancelled (a fulfilled order cannot), and paid or placed ones refunded.
    orders = []
    for index, (customer, status) in enumerate(zip(
        [*customers, customers[0]], [Order.Status.FULFILLED, Order.Status.PAID, Order.Status.PLACED, Order.Status.PLACED],
    )):
        orders.append(crm_services.order_create(
            customer=customer, order_number=f"SCH-{index}", placed_at=now - timedelta(days=3 + index), total="300.00",
            source=f"partner:{partner.pk}", status=status,
            lines=[LineInput(sku="BEANS", product_name="Beans", category="coffee", quantity=2, unit_price=Decimal("100")),
                   LineInput(sku="MUG", product_name="Mug", category="kitchen", quantity=1, unit_price=Decimal("100"))],
        ))
    # customers/{id}/recommendations/ (its {id} from the customers' collection, as every customers/{id}/... path):
    # one customer with picks, one off sale among them, so the fuzzer reads a non-empty list.
    beans, mug = (Product.objects.get(sku=sku) for sku in ("BEANS", "MUG"))
    Product.objects.filter(pk=mug.pk).update(price=Decimal("9.90"), url="https://shop.example/mug")
    give_picks(customers[1], mug, product("KETTLE", "Kettle", active=False), beans)
    event_rule = EarningRuleFactory(name="Shared a post", kind=EarningRule.Kind.EVENT, event_name="social_share", points=10)
    club_services.points_adjust(member=members[0], points=1000, reason="test credit", by=None)
    coupon = club_services.offer_redeem(member=members[0], offer=offer)
    static_segment("regulars", customers[:2])
    first_line = orders[0].lines.order_by("id").first()
    return_services.return_request_create(
        order=orders[0], lines=[return_services.LineRequest(order_line_id=first_line.pk, quantity=1, reason="damaged")],
    )

    hooks = [webhook_subscribe(partner=partner, url=f"https://hooks.example.com/{index}", events=[WebhookEvent.ORDER_CREATED])
             for index in range(WEBHOOKS)]

    campaign = CampaignFactory(name="Win back", holdout_percent=10)  # campaigns/{id}/lift/: no list of campaigns
    # automations/{id}/lift/: no list of automations either
    automation = Automation.objects.create(name="Win back", kind=Automation.Kind.WIN_BACK, holdout_percent=10)
    customer_ids = [str(customer.public_id) for customer in customers]
    ids, slugs = _harvest(headers)
    WORLD["paths"] = {
        **ids,
        f"{API_PREFIX}webhooks/": [str(hook.public_id) for hook in hooks],
        "customer_id": customer_ids,  # club/members/{customer_id}/...: no list of members
        f"{API_PREFIX}club/members/": [str(member.customer.public_id) for member in members],
        f"{API_PREFIX}campaigns/": [str(campaign.public_id)],
        f"{API_PREFIX}automations/": [str(automation.public_id)],
    }
    WORLD["slugs"] = slugs
    WORLD["body"] = {
        "customer": customer_ids,
        "order": [str(order.public_id) for order in orders],
        "order_line": [str(line.public_id) for line in orders[0].lines.all()],
        "offer": [str(offer.public_id)],
        "code": [coupon.code],
        "survey": [str(survey.public_id)],
        "event": [event_rule.event_name],
    }
    member_ids = [str(member.customer.public_id) for member in members]
    WORLD["valid"] = {
        **{operation: {"body": body} for operation, body in _valid_bodies(customer_ids, member_ids, orders, coupon.code,
                                                                          offer, event_rule).items()},
        **{operation: {"query": query} for operation, query in _valid_queries(customers).items()},
    }
    yield headers
    WORLD.update(paths={}, slugs={}, body={}, valid={})


def _valid_bodies(customer_ids: list[str], member_ids: list[str], orders: list, code: str, offer, event_rule) -> dict:
    """Bodies each write accepts (unique numbers where a value must be new), drawn now and then
    instead of the generated ones: random text rarely passes the checks that guard the deep paths."""
    unique = st.integers(0, 10**12)
    customer = st.sampled_from(customer_ids)
    member = st.sampled_from(member_ids)
    first_order = orders[0]
    lines = [str(line.public_id) for line in first_order.lines.order_by("id")]
    # Open orders too: the sequences cancel what they created (a fulfilled order cannot be cancelled).
    order = st.builds(lambda n, who, status: {
        "customer": who, "order_number": f"FZ-{n}", "placed_at": "2026-01-05T10:00:00Z", "total": "250.00", "status": status,
        "lines": [{"sku": "BEANS", "product_name": "Beans", "quantity": 2, "unit_price": "100.00"},
                  {"product_name": "Mug", "quantity": 1, "unit_price": "50.00"}],
    }, unique, customer, st.sampled_from(["placed", "paid", "fulfilled"]))
    return {
        "customers_create": st.builds(lambda n: {"first_name": "Fuzz", "last_name": "Case", "email": f"fuzz{n}@example.com",
                                                 "external_ref": f"FZ-{n}", "email_opt_in": True}, unique),
        "customers_partial_update": st.sampled_from([{"city": "Shiraz"}, {"notes": "called back"}, {"sms_opt_in": False}]),
        "orders_create": order,
        "orders_bulk_create": st.lists(order, min_size=1, max_size=3).map(lambda batch: {"orders": batch}),
        "orders_refund_create": st.sampled_from(["1.00", "10.00", "50"]).map(lambda amount: {"amount": amount}),
        # One of each line is left to return (a bean of the two is in the fixture's return, the mug was one).
        "returns_create": st.sampled_from(lines).map(lambda line: {
            "order": str(first_order.public_id), "lines": [{"order_line": line, "quantity": 1, "reason": "damaged"}],
        }),
        "webhooks_create": st.builds(lambda n: {"url": f"https://hooks.example.com/new/{n}", "events": ["order.created"]}, unique),
        "club_enroll_create": customer.map(lambda who: {"customer": who}),
        "club_events_create": st.builds(lambda who, n: {"customer": who, "event": event_rule.event_name,
                                                    "reference": f"FZ-{n}"}, member, unique),
        "club_members_redeem_create": st.just({"offer": str(offer.public_id)}),
        "coupons_validate_create": st.just({"code": code, "order_value": "500.00"}),
        "coupons_redeem_create": st.builds(lambda n: {"code": code, "order_value": "500.00", "reference": f"FZ-{n}"}, unique),
        "surveys_invitations_create": customer.map(lambda who: {"customer": who}),
        "customers_interactions_create": st.just({"subject": "Asked about beans", "channel": "phone"}),
        "customers_consents_create": st.sampled_from([{"channel": "email", "granted": False, "source": "fuzz"},
                                                      {"channel": "sms", "granted": True, "source": "fuzz"}]),
    }


def _valid_queries(customers: list) -> dict:
    """Queries each read accepts, where the schema cannot say all the rules: exactly one lookup key,
    a period whose end is after its start."""
    lookups = [{name: str(getattr(customer, name))} for customer in customers
               for name in ("email", "phone", "external_ref") if getattr(customer, name)]
    period = st.builds(
        lambda year, month, months: {"start": f"{year}-{month:02}-01",
                                     "end": f"{year + (month + months - 1) // 12}-{(month + months - 1) % 12 + 1:02}-01"},
        st.integers(2000, 2030), st.integers(1, 12), st.integers(1, 24),
    )
    with_window = st.builds(lambda chosen, window: {**chosen, "window": window}, period, st.integers(1, 3650))
    return {
        "customers_lookup_retrieve": st.sampled_from(lookups),
        "segments_metrics_retrieve": st.one_of(period, with_window),
        "automations_lift_retrieve": st.one_of(period, st.builds(lambda chosen, days: {**chosen, "window_days": days},
                                                                 period, st.integers(1, 3650))),
    }


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
    # Mostly real ids (seven in eight: reach the objects), sometimes the generated ones (reach the 404s).
    real = st.fixed_dictionaries(choices).map(lambda chosen: {**path_parameters, **chosen})
    return st.integers(0, 7).flatmap(lambda pick: st.just(path_parameters) if pick == 0 else real)


@schema.hook
def flatmap_query(context, query):
    """A generated cursor is a forged one (always a 400): keep it in one query in four."""
    if not isinstance(query, dict) or "cursor" not in query:
        return st.just(query)
    without = {name: value for name, value in query.items() if name != "cursor"}
    return st.integers(0, 3).map(lambda pick: query if pick == 0 else without)


@schema.hook
def flatmap_body(context, body):
    return _with_real_ids(body)


@schema.hook
def flatmap_case(context, case):
    """A known-valid body or query (WORLD["valid"]) in two valid cases in three, and in one case in
    four where another part of the request is the invalid one; the rest as generated."""
    operation_id = case.operation.definition.raw.get("operationId")
    valid = WORLD["valid"].get(operation_id, {})
    meta = case.meta
    if not valid or meta is None:
        return st.just(case)
    positive = meta.generation.mode == GenerationMode.POSITIVE
    parts = {part: strategy for part, strategy in valid.items()
             if (component := meta.components.get(LOCATIONS[part])) is None or component.mode != GenerationMode.NEGATIVE}
    if not parts:
        return st.just(case)

    def replaced(values: dict):
        for part, value in values.items():
            setattr(case, part, value)
        return case

    known = st.fixed_dictionaries(parts).map(replaced)
    return st.integers(0, 11).flatmap(lambda pick: known if pick < (8 if positive else 3) else st.just(case))


LOCATIONS = {"body": ParameterLocation.BODY, "query": ParameterLocation.QUERY}


def _with_real_ids(body):
    if not isinstance(body, dict) or not WORLD["body"]:
        return st.just(body)
    choices = {
        name: st.one_of(st.sampled_from(values), st.just(body[name]))
        for name, values in WORLD["body"].items() if name in body and values
    }
    if not choices:
        return st.just(body)
    return st.fixed_dictionaries(choices).map(lambda chosen: {**body, **chosen})


# Answers of the session, per operation: {"GET /api/v1/customers/{id}/": Counter({"200": n, "404": n, "positive 400": n})}.
ANSWERS: dict[str, Counter] = defaultdict(Counter)
SEQUENCES: Counter = Counter()  # steps and scenarios of the stateful run


def _call_and_check(case, headers: dict):
    response = case.call(headers=headers)
    counter = ANSWERS[f"{case.operation.method.upper()} {case.operation.path}"]
    counter[str(response.status_code)] += 1
    meta = case.meta
    if meta is not None and meta.generation.mode == GenerationMode.POSITIVE:
        counter["positive"] += 1
        counter[f"positive {response.status_code}"] += 1
    case.validate_response(response, checks=CHECKS)
    return response


@schema.parametrize()
@hypothesis.settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,  # the same cases on every run: a red suite is reproducible
    database=None,
    suppress_health_check=list(hypothesis.HealthCheck),
)
def test_every_operation_answers_as_documented(case, api_world):
    # Each example meets the same database (a DELETE does not leave the next example a 404), as the
    # replays of Hypothesis' search need; the sequences below are where writes build on each other.
    savepoint = transaction.savepoint()
    try:
        _call_and_check(case, api_world)
    finally:
        transaction.savepoint_rollback(savepoint)


def test_sequences_that_follow_the_schema_links_answer_as_documented(api_world):
    """Create, then use what was created: the state machine chains operations along the links."""

    class Sequences(schema.as_state_machine()):
        # Every scenario starts from the same database and throttle counters: Hypothesis replays
        # scenarios while it searches, and a replay must meet the answers the first run met.
        def setup(self):
            SEQUENCES["scenarios"] += 1
            self.savepoint = transaction.savepoint()
            cache.clear()

        def teardown(self):
            transaction.savepoint_rollback(self.savepoint)

        def step(self, input):
            SEQUENCES["steps"] += 1
            SEQUENCES["steps following a link"] += input.transition is not None and input.is_applied
            return StepOutput(_call_and_check(input.case, api_world), input.case)

    Sequences.run(settings=hypothesis.settings(
        max_examples=STATEFUL_SCENARIOS,
        stateful_step_count=STATEFUL_STEPS,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(hypothesis.HealthCheck),
    ))


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


def test_the_session_sent_enough_cases_and_reached_the_objects(capsys):
    """Runs after the tests above (pytest keeps the file's order): the figures of the whole run."""
    operations = {f"{operation.method.upper()} {operation.path}" for operation in _operations()}
    if not operations <= set(ANSWERS):
        pytest.skip("only part of the fuzzing ran (-k or a failure): the totals would say nothing")
    total = sum(counter[code] for counter in ANSWERS.values() for code in counter if code.isdigit())
    lines = [f"schemathesis: {total} cases, {len(ANSWERS)} operations; stateful: {SEQUENCES['scenarios']} scenarios, "
             f"{SEQUENCES['steps']} steps, {SEQUENCES['steps following a link']} of them following a link"]
    mostly_missing, mostly_refused = [], {}
    for label in sorted(ANSWERS):
        counter = ANSWERS[label]
        sent = sum(counter[code] for code in counter if code.isdigit())
        positive = counter["positive"]
        share_404 = counter["404"] / sent
        share_400_valid = (counter["positive 400"] + counter["positive 422"]) / positive if positive else 0.0
        lines.append(f"  {label:52} {sent:5} sent  404 {share_404:4.0%}  400 {counter['400'] / sent:4.0%}  "
                     f"valid refused {share_400_valid:4.0%}  2xx {sum(counter[c] for c in counter if c[:1] == '2') / sent:4.0%}")
        if share_404 >= 0.5:
            mostly_missing.append(label)
        if share_400_valid > MAX_VALID_REFUSED:
            mostly_refused[label] = f"{share_400_valid:.0%}"
    with capsys.disabled():
        print("\n" + "\n".join(lines))
    assert total >= MIN_CASES
    assert not any(code.startswith("5") for counter in ANSWERS.values() for code in counter)
    assert not mostly_missing, f"mostly 404: {mostly_missing}"
    assert not mostly_refused, f"most valid cases refused: {mostly_refused}"


def _operations():
    return [result.ok() for result in schema.get_all_operations()]
