"""The crm admin as support staff use it: find a customer, read the timeline, log an
interaction, see today's follow-ups, cancel and refund orders. Every write must go
through crm.services, and every list page runs a fixed number of queries."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db import connection
from django.db.models import Q
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from analytics.models import CustomerScore
from core import audit, links, panels, timeline
from crm import services
from crm.models import ConsentChange, Customer, Interaction
from tests.factories import CustomerFactory, InteractionFactory, OrderLineFactory, ProductFactory, UserFactory

pytestmark = pytest.mark.django_db

CUSTOMERS = reverse("admin:crm_customer_changelist")
ORDERS = reverse("admin:crm_order_changelist")
CRM_KINDS = ("interaction", "order", "consent")
INTERACTIONS = reverse("admin:crm_interaction_changelist")


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _change_url(customer):
    return reverse("admin:crm_customer_change", args=[customer.pk])


def _log_url(customer):
    return reverse("admin:crm_customer_log_interaction", args=[customer.pk])


def _listed(response):
    assert response.status_code == 200
    return list(response.context["cl"].result_list)


def _search(client, term):
    return _listed(client.get(CUSTOMERS, {"q": term}))


# Search --------------------------------------------------------------------------------


@pytest.fixture
def crowd(customer, place_order):
    """Sara (the `customer` fixture) among people who must not match her searches."""
    CustomerFactory(first_name="Bob", last_name="Sarabi", email="bob@example.com", phone="+989351112233")
    CustomerFactory(first_name="Ali", last_name="Rezaei", email="ali@example.org", external_ref="POS-1")
    services.customer_update(customer=customer, values={"external_ref": "POS-778"})
    place_order(customer, order_number="WEB-1001")
    return customer


@pytest.mark.parametrize("term", ["sara@example.com", "SARA@Example.COM", "  sara@example.com "])
def test_it_finds_a_customer_by_email_in_any_case(admin_client, crowd, term):
    assert _search(admin_client, term) == [crowd]


@pytest.mark.parametrize("term", ["+989121234567", "+98 912 123 4567", "+98-912-123-4567", "+98 (912) 1234567"])
def test_it_finds_a_customer_by_phone_however_it_is_typed(admin_client, crowd, term):
    assert _search(admin_client, term) == [crowd]


def test_it_finds_a_customer_by_external_reference(admin_client, crowd):
    assert _search(admin_client, "POS-778") == [crowd]


def test_it_finds_a_customer_by_order_number(admin_client, crowd):
    assert _search(admin_client, "WEB-1001") == [crowd]


def test_it_finds_customers_by_the_start_of_a_first_or_last_name(admin_client, crowd):
    bob = Customer.objects.get(first_name="Bob")
    assert _search(admin_client, "sar") == sorted([crowd, bob], key=lambda c: -c.pk)
    assert _search(admin_client, "Sara ahm") == [crowd]
    assert _search(admin_client, "bo sara") == [bob]


def test_a_search_that_matches_nobody_shows_an_empty_list(admin_client, crowd):
    assert _search(admin_client, "nobody-at-all") == []


# Lifecycle stage -----------------------------------------------------------------------


def test_the_list_shows_and_filters_by_lifecycle_stage(admin_client, place_order, settings):
    settings.CRM_ACTIVITY_WINDOW_DAYS = 90
    prospect = CustomerFactory(first_name="Pat")
    repeat = CustomerFactory(first_name="Rita")
    place_order(repeat, days_ago=30)
    place_order(repeat, days_ago=5)
    churned = CustomerFactory(first_name="Chad")
    place_order(churned, days_ago=200)

    response = admin_client.get(CUSTOMERS)
    assert {c.first_name: c.lifecycle_stage for c in _listed(response)} == {
        "Pat": "prospect", "Rita": "repeat", "Chad": "churned",
    }
    assert 'class="crm-badge crm-stage-churned"' in response.content.decode()

    assert _listed(admin_client.get(CUSTOMERS, {"stage": "repeat"})) == [repeat]
    assert _listed(admin_client.get(CUSTOMERS, {"stage": "churned"})) == [churned]
    assert _listed(admin_client.get(CUSTOMERS, {"stage": "prospect"})) == [prospect]


def test_the_stage_filter_agrees_with_the_stage_column_for_every_stage(place_order, settings, override):
    # The filter uses index-friendly ranges where it can; it must still mean the same.
    from core.customers import loyalty_condition_registry

    settings.CRM_ACTIVITY_WINDOW_DAYS = 90
    # Loyalty as the apps above define it: a condition over the customer, and one over a
    # related row that may be missing or NULL.
    override(loyalty_condition_registry, {
        "name": lambda: Q(first_name__startswith="Loyal"), "score": lambda: Q(score__rfm_segment="champions"),
    })
    scores = {"ChampionOne": "champions", "ChampionMany": "champions", "ScoredRepeat": "lost", "NullScore": None}
    for name, ages in {
        "Prospect": [], "New": [10], "Repeat": [40, 5], "LoyalOne": [3], "LoyalMany": [50, 2], "AtRisk": [100],
        "AtRiskMany": [300, 150], "Churned": [181], "ChurnedMany": [400, 200], "Edge90": [90], "Edge180": [180],
        "ChampionOne": [4], "ChampionMany": [30, 3], "ScoredRepeat": [20, 10], "NullScore": [6],
        "LoyalChurned": [365],
    }.items():
        customer = CustomerFactory(first_name=name)
        for days in ages:
            place_order(customer, days_ago=days)
        if name in scores:
            CustomerScore.objects.create(customer=customer, rfm_segment=scores[name])
    cancelled_only = CustomerFactory(first_name="LoyalButCancelled")
    place_order(cancelled_only, days_ago=3, status="cancelled")

    at = timezone.now()
    annotated = dict(Customer.objects.with_lifecycle_stage(at=at).values_list("first_name", "lifecycle_stage"))
    assert set(annotated.values()) == set(Customer.LifecycleStage.values)
    for stage in Customer.LifecycleStage.values:
        filtered = set(Customer.objects.in_lifecycle_stage(stage, at=at).values_list("first_name", flat=True))
        assert filtered == {name for name, value in annotated.items() if value == stage}, stage
    assert annotated["ChampionOne"] == "loyal" and annotated["NullScore"] == "new" and annotated["ScoredRepeat"] == "repeat"


def test_the_other_customer_filters_work(admin_client):
    tagged = CustomerFactory(country="AE", email_opt_in=True)
    services.customer_update(customer=tagged, values={}, tags=["vip"])
    other = CustomerFactory(country="IR")
    vip = tagged.tags.get()

    assert _listed(admin_client.get(CUSTOMERS, {"country": "ae"})) == [tagged]
    assert _listed(admin_client.get(CUSTOMERS, {"tag": str(vip.pk)})) == [tagged]
    assert _listed(admin_client.get(CUSTOMERS, {"email_opt_in__exact": "0"})) == [other]


# The customer page ---------------------------------------------------------------------


def test_the_customer_page_shows_the_timeline_newest_first(admin_client, customer, place_order, support_user):
    now = timezone.now()
    place_order(customer, order_number="OLD-1", at=now - timedelta(days=10))
    services.interaction_log(
        customer=customer, subject="Asked about delivery", staff=support_user, occurred_at=now - timedelta(days=5)
    )
    place_order(customer, order_number="NEW-2", at=now - timedelta(days=1))
    services.interaction_log(customer=customer, subject="Thanked us", staff=support_user, occurred_at=now - timedelta(hours=1))

    response = admin_client.get(_change_url(customer))

    assert response.status_code == 200
    kinds = [(item["entry"].kind, item["entry"].title) for item in response.context["timeline"]]
    assert [kind for kind, _ in kinds] == ["interaction", "order", "interaction", "order"]
    html = response.content.decode()
    panel = html.index('id="crm-timeline"')
    positions = [html.index(text, panel) for text in ("Thanked us", "NEW-2", "Asked about delivery", "OLD-1")]
    assert positions == sorted(positions)
    assert "sam.support" in html


def test_the_timeline_can_show_one_kind_only(admin_client, customer, place_order):
    place_order(customer, order_number="ONLY-ORDERS")
    services.interaction_log(customer=customer, subject="A call")

    response = admin_client.get(_change_url(customer), {"timeline": "order"})

    assert [item["entry"].kind for item in response.context["timeline"]] == ["order"]


def test_logging_an_interaction_from_the_customer_page(client, support_user, customer, place_order):
    order = place_order(customer, order_number="W-55")
    client.force_login(support_user)
    page = client.get(_change_url(customer))
    assert page.context["log_interaction_url"] == _log_url(customer)
    assert 'for="id_interaction-subject"' in page.content.decode()

    tomorrow = timezone.localdate() + timedelta(days=1)
    response = client.post(_log_url(customer), {
        "interaction-channel": "email", "interaction-direction": "outbound", "interaction-subject": "Sent the invoice again",
        "interaction-body": "Customer could not find it.", "interaction-status": "open",
        "interaction-follow_up_on": tomorrow.isoformat(), "interaction-order": str(order.pk),
    })

    assert response.status_code == 302
    assert response["Location"] == _change_url(customer) + "#crm-timeline"
    interaction = Interaction.objects.get()
    assert (interaction.customer, interaction.staff, interaction.order) == (customer, support_user, order)
    assert (interaction.channel, interaction.direction, interaction.status) == ("email", "outbound", "open")
    assert interaction.follow_up_on == tomorrow
    assert interaction.resolved_at is None
    page = client.get(_change_url(customer))
    assert "Sent the invoice again" in page.content.decode()
    assert page.context["timeline"][0]["entry"].kind == "interaction"


def test_a_resolved_interaction_logged_from_the_page_is_stamped_resolved(admin_client, customer):
    response = admin_client.post(_log_url(customer), {
        "interaction-channel": "phone", "interaction-direction": "inbound", "interaction-subject": "Quick question",
        "interaction-status": "resolved",
    })
    assert response.status_code == 302
    assert Interaction.objects.get().resolved_at is not None


@pytest.mark.parametrize("change, field", [
    ({"interaction-subject": ""}, "subject"),
    ({"interaction-channel": "pigeon"}, "channel"),
    ({"interaction-follow_up_on": "tomorrow-ish"}, "follow_up_on"),
    # A follow-up on an interaction that is already resolved would never come up.
    ({"interaction-follow_up_on": "2030-01-01", "interaction-status": "resolved"}, "status"),
])
def test_an_invalid_interaction_shows_the_errors_and_creates_nothing(admin_client, customer, change, field):
    data = {
        "interaction-channel": "phone", "interaction-direction": "inbound", "interaction-subject": "Hello",
        "interaction-status": "open", **change,
    }
    response = admin_client.post(_log_url(customer), data)

    assert response.status_code == 200
    assert field in response.context["interaction_form"].errors
    assert "errornote" in response.content.decode()
    assert not Interaction.objects.exists()


def test_an_order_of_another_customer_cannot_be_linked(admin_client, customer, place_order):
    stranger_order = place_order(CustomerFactory(), order_number="NOT-HERS")
    response = admin_client.post(_log_url(customer), {
        "interaction-channel": "phone", "interaction-direction": "inbound", "interaction-subject": "Hello",
        "interaction-status": "open", "interaction-order": str(stranger_order.pk),
    })
    assert response.status_code == 200
    assert "order" in response.context["interaction_form"].errors
    assert not Interaction.objects.exists()


def test_logging_for_a_customer_that_does_not_exist_redirects_with_a_message(admin_client):
    response = admin_client.post(reverse("admin:crm_customer_log_interaction", args=[999999]), {})
    assert response.status_code == 302
    assert not Interaction.objects.exists()


def test_saving_the_customer_form_goes_through_the_services(admin_client, customer, admin_user):
    data = {
        "first_name": "Sara", "last_name": "Ahmadi", "email": "Sara.New@Example.COM", "phone": "+989121234567",
        "external_ref": "", "birth_date": "", "gender": "", "language": "fa", "city": "Shiraz", "country": "ir",
        "source": "", "acquired_at_0": "", "acquired_at_1": "", "notes": "", "email_opt_in": "on",
    }
    response = admin_client.post(_change_url(customer), data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    customer.refresh_from_db()
    assert (customer.email, customer.country, customer.city, customer.language) == ("sara.new@example.com", "IR", "Shiraz", "fa")
    assert customer.email_opt_in is True
    change = ConsentChange.objects.get(customer=customer)
    assert (change.channel, change.granted, change.source, change.changed_by) == ("email", True, "admin", admin_user)


def test_adding_a_customer_goes_through_the_services(admin_client, admin_user):
    response = admin_client.post(reverse("admin:crm_customer_add"), {
        "first_name": "Nima", "last_name": "", "email": " NIMA@example.com", "phone": "", "external_ref": "",
        "birth_date": "", "gender": "", "language": "en", "city": "", "country": "", "source": "",
        "acquired_at_0": "", "acquired_at_1": "", "notes": "", "sms_opt_in": "on",
    })

    assert response.status_code == 302
    created = Customer.objects.get(first_name="Nima")
    assert created.email == "nima@example.com"
    assert created.sms_opt_in is True
    assert ConsentChange.objects.filter(customer=created, channel="sms", granted=True, changed_by=admin_user).exists()


def test_a_customer_without_any_contact_is_refused_with_a_message(admin_client):
    response = admin_client.post(reverse("admin:crm_customer_add"), {
        "first_name": "Ghost", "language": "en", "acquired_at_0": "", "acquired_at_1": "",
    })
    assert response.status_code == 200
    assert response.context["adminform"].form.errors
    assert not Customer.objects.exists()


# Follow-ups ----------------------------------------------------------------------------


def test_follow_ups_due_today_are_on_the_admin_home_of_their_owner_only(client, support_user, customer):
    today = timezone.localdate()
    colleague = UserFactory(username="cleo.colleague")
    colleague.groups.set(support_user.groups.all())
    InteractionFactory(customer=customer, staff=support_user, subject="Call back about refund", status="open", follow_up_on=today)
    InteractionFactory(customer=customer, staff=support_user, subject="Overdue promise", status="waiting",
                       follow_up_on=today - timedelta(days=2))
    InteractionFactory(customer=customer, staff=support_user, subject="Next week", status="open",
                       follow_up_on=today + timedelta(days=7))
    InteractionFactory(customer=customer, staff=support_user, subject="Already done", status="resolved", follow_up_on=today)
    InteractionFactory(customer=customer, staff=colleague, subject="Cleo's call", status="open", follow_up_on=today)

    client.force_login(support_user)
    html = client.get(reverse("admin:index")).content.decode()
    assert "My follow-ups due today" in html
    assert "Call back about refund" in html and "Overdue promise" in html
    assert "Next week" not in html and "Already done" not in html and "Cleo&#x27;s call" not in html

    client.force_login(colleague)
    html = client.get(reverse("admin:index")).content.decode()
    assert "Cleo&#x27;s call" in html
    assert "Call back about refund" not in html


def test_the_follow_ups_filter_of_the_interaction_list(client, support_user, customer):
    today = timezone.localdate()
    due = InteractionFactory(customer=customer, staff=support_user, status="open", follow_up_on=today)
    later = InteractionFactory(customer=customer, staff=support_user, status="open", follow_up_on=today + timedelta(days=3))
    someone_elses = InteractionFactory(customer=customer, staff=UserFactory(), status="open")
    InteractionFactory(customer=customer, staff=support_user, status="resolved")
    client.force_login(support_user)

    assert set(_listed(client.get(INTERACTIONS, {"follow_up": "due"}))) == {due}
    assert set(_listed(client.get(INTERACTIONS, {"follow_up": "mine"}))) == {due, later}
    assert set(_listed(client.get(INTERACTIONS, {"follow_up": "open"}))) == {due, later, someone_elses}


def test_mark_resolved_goes_through_the_service(admin_client, customer):
    interaction = InteractionFactory(customer=customer, status="open")
    response = admin_client.post(INTERACTIONS, {"action": "mark_resolved", "index": 0, ACTION_CHECKBOX_NAME: [interaction.pk]})
    assert response.status_code == 302
    interaction.refresh_from_db()
    assert interaction.status == "resolved" and interaction.resolved_at is not None


def test_adding_an_interaction_in_the_admin_form_goes_through_the_service(admin_client, customer, admin_user):
    response = admin_client.post(reverse("admin:crm_interaction_add"), {
        "customer": customer.pk, "order": "", "channel": "chat", "direction": "inbound", "subject": "Live chat",
        "body": "", "status": "resolved", "staff": admin_user.pk,
        "occurred_at_0": timezone.localdate().isoformat(), "occurred_at_1": "10:00:00", "follow_up_on": "",
    })
    assert response.status_code == 302
    interaction = Interaction.objects.get()
    assert interaction.resolved_at is not None and interaction.staff == admin_user


def test_resolving_in_the_interaction_form_goes_through_the_service(admin_client, customer, admin_user):
    interaction = InteractionFactory(customer=customer, status="open", staff=admin_user)
    response = admin_client.post(reverse("admin:crm_interaction_change", args=[interaction.pk]), {
        "customer": customer.pk, "order": "", "channel": "phone", "direction": "inbound", "subject": "Done now",
        "body": "", "status": "resolved", "staff": admin_user.pk,
        "occurred_at_0": timezone.localdate().isoformat(), "occurred_at_1": "10:00:00", "follow_up_on": "",
    })
    assert response.status_code == 302
    interaction.refresh_from_db()
    assert (interaction.subject, interaction.status) == ("Done now", "resolved")
    assert interaction.resolved_at is not None


# Orders --------------------------------------------------------------------------------


def _action(client, name, orders, **extra):
    return client.post(ORDERS, {"action": name, "index": 0, ACTION_CHECKBOX_NAME: [o.pk for o in orders], **extra})


def test_cancelling_orders_goes_through_the_service(admin_client, customer, place_order):
    kept = place_order(customer, total="80.00")
    placed = place_order(customer, total="20.00", status="placed")
    customer.refresh_from_db()
    assert (customer.orders_count, customer.total_spent) == (2, Decimal("100.00"))

    response = _action(admin_client, "cancel_orders", [placed])

    assert response.status_code == 302
    placed.refresh_from_db()
    customer.refresh_from_db()
    assert placed.status == "cancelled"
    assert (customer.orders_count, customer.total_spent) == (1, Decimal("80.00"))
    kept.refresh_from_db()
    assert kept.status == "fulfilled"


def test_an_order_that_cannot_be_cancelled_is_reported_not_changed(admin_client, customer, place_order):
    fulfilled = place_order(customer)
    response = _action(admin_client, "cancel_orders", [fulfilled])
    assert response.status_code == 302
    fulfilled.refresh_from_db()
    assert fulfilled.status == "fulfilled"
    messages = [str(m) for m in response.wsgi_request._messages]
    assert any(fulfilled.order_number in m and "cannot become" in m for m in messages)


def test_refunding_part_of_an_order_asks_for_the_amount_then_uses_the_service(admin_client, customer, place_order):
    order = place_order(customer, total="100.00")

    page = _action(admin_client, "refund_orders", [order])
    assert page.status_code == 200
    assert "Amount to refund" in page.content.decode()
    order.refresh_from_db()
    assert order.refunded_amount == 0

    response = admin_client.post(ORDERS, {"action": "refund_orders", "apply": "1", "amount": "40.00", ACTION_CHECKBOX_NAME: [order.pk]})

    assert response.status_code == 302
    order.refresh_from_db()
    customer.refresh_from_db()
    assert (order.refunded_amount, order.status) == (Decimal("40.00"), "fulfilled")
    assert customer.total_spent == Decimal("60.00")


def test_a_refund_with_no_amount_refunds_what_remains(admin_client, customer, place_order):
    order = place_order(customer, total="100.00")
    services.order_refund(order=order, amount="30.00")
    admin_client.post(ORDERS, {"action": "refund_orders", "apply": "1", "amount": "", ACTION_CHECKBOX_NAME: [order.pk]})
    order.refresh_from_db()
    customer.refresh_from_db()
    assert (order.refunded_amount, order.status) == (Decimal("100.00"), "refunded")
    assert (customer.orders_count, customer.total_spent) == (0, Decimal("0"))


def test_a_refund_larger_than_the_order_is_a_message_not_an_error_page(admin_client, customer, place_order):
    order = place_order(customer, total="50.00")
    response = admin_client.post(ORDERS, {"action": "refund_orders", "apply": "1", "amount": "80", ACTION_CHECKBOX_NAME: [order.pk]})
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.refunded_amount == 0
    assert any("At most" in str(m) for m in response.wsgi_request._messages)


def test_the_order_page_links_to_the_refund_form(admin_client, customer, place_order):
    order = place_order(customer)
    html = admin_client.get(reverse("admin:crm_order_change", args=[order.pk])).content.decode()
    refund_url = reverse("admin:crm_order_refund", args=[order.pk])
    assert refund_url in html
    page = admin_client.get(refund_url)
    assert page.status_code == 200 and order.order_number in page.content.decode()


def test_orders_are_searched_by_exact_order_number(admin_client, customer, place_order):
    wanted = place_order(customer, order_number="POS-42")
    place_order(customer, order_number="POS-421")
    assert _listed(admin_client.get(ORDERS, {"q": " POS-42 "})) == [wanted]


# Counts on big tables -------------------------------------------------------------------


@pytest.mark.postgres
def test_an_unfiltered_list_shows_postgresqls_estimate(admin_client, monkeypatch):
    from crm.admin.utils import EstimatedCountPaginator

    CustomerFactory.create_batch(3)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE crm_customer")
    monkeypatch.setattr(EstimatedCountPaginator, "exact_below", 2)

    response = admin_client.get(CUSTOMERS)

    assert response.context["cl"].paginator.count_kind == "estimate"
    assert response.context["cl"].result_count == 3
    assert "about 3 customers" in response.content.decode()


@pytest.mark.postgres
def test_a_filtered_list_counts_no_further_than_the_cap(admin_client, monkeypatch):
    from crm.admin.utils import EstimatedCountPaginator

    CustomerFactory.create_batch(4, country="AE")
    monkeypatch.setattr(EstimatedCountPaginator, "count_cap", 2)

    response = admin_client.get(CUSTOMERS, {"country": "AE"})

    assert response.context["cl"].paginator.count_kind == "at_least"
    assert "more than 2 customers" in response.content.decode()


def test_a_small_table_is_counted_exactly(admin_client):
    CustomerFactory.create_batch(2)
    response = admin_client.get(CUSTOMERS)
    assert response.context["cl"].paginator.count_kind == "exact"
    assert response.context["cl"].result_count == 2


# Query counts: constant whatever the number of rows -------------------------------------


def _customers(n, place_order):
    for _ in range(n):
        place_order(CustomerFactory())


def _orders(n, place_order):
    customer = CustomerFactory()
    for _ in range(n):
        place_order(customer)


def _interactions(n, place_order):
    staff = UserFactory()
    for _ in range(n):
        InteractionFactory(staff=staff, status="open", follow_up_on=timezone.localdate())


def _order_lines(n, place_order):
    for _ in range(n):
        OrderLineFactory()


def _products(n, place_order):
    for _ in range(n):
        ProductFactory()


def _consent_changes(n, place_order):
    for _ in range(n):
        services.consent_set(customer=CustomerFactory(), channel="email", granted=True, source="test")


# Each page: session + user, the (estimated) count, the rows, and what its filters need.
LIST_PAGES = {
    "customers": (CUSTOMERS, _customers, 5),  # + the tags of the tag filter
    "customers searched": (CUSTOMERS + "?q=example", _customers, 5),
    "customers by stage": (CUSTOMERS + "?stage=new", _customers, 5),
    "orders": (ORDERS, _orders, 4),
    "interactions": (INTERACTIONS, _interactions, 4),
    "interactions due": (INTERACTIONS + "?follow_up=due", _interactions, 4),
    "order lines": (reverse("admin:crm_orderline_changelist"), _order_lines, 4),
    # A small table: Django's exact counts (twice) and the distinct categories of the filter.
    "products": (reverse("admin:crm_product_changelist"), _products, 6),
    "consent changes": (reverse("admin:crm_consentchange_changelist"), _consent_changes, 4),
}


@pytest.mark.parametrize("rows", [5, 30])
@pytest.mark.parametrize("page", list(LIST_PAGES))
def test_each_list_page_runs_a_fixed_number_of_queries(client, admin_user, place_order, django_assert_num_queries, page, rows):
    url, make, expected = LIST_PAGES[page]
    make(rows, place_order)
    client.force_login(admin_user)
    client.get(url)  # warm the per-process caches (content types)
    with django_assert_num_queries(expected):
        response = client.get(url)
    assert response.status_code == 200
    if "?" not in url:
        assert len(response.context["cl"].result_list) == rows


def _fill_timeline(customer, place_order, staff, entries):
    for index in range(entries):
        place_order(customer, days_ago=index + 1)
        services.interaction_log(customer=customer, subject=f"Call {index}", staff=staff)
        services.consent_set(customer=customer, channel="sms", granted=index % 2 == 0, source="test")


@pytest.mark.parametrize("entries", [3, 12])
def test_the_customer_page_runs_a_fixed_number_of_queries(
    client, admin_user, customer, place_order, django_assert_num_queries, override, entries
):
    # crm's own timeline; each app above pins the queries of the entries it adds.
    override(timeline.timeline_registry, {kind: timeline.timeline_registry[kind] for kind in CRM_KINDS})
    override(panels.panel_registry, {})  # other apps' panels (the club card) pin their own queries
    override(links.customer_link_registry, {})  # and their links (tests/core/test_customer_links.py)
    # crm's own audited model; tests/crm/test_history.py pins the history with every app's models
    override(audit.history_source_registry, customer=audit.history_source_registry["customer"])
    _fill_timeline(customer, place_order, admin_user, entries)
    client.force_login(admin_user)
    client.get(_change_url(customer))
    # session, user, customer (with its stage), its tags, the interactions, orders and
    # consent changes of the timeline, the recent orders of the "log an interaction" form,
    # the view logged, the customer's recorded versions and the recent views (core.audit)
    with django_assert_num_queries(11):
        response = client.get(_change_url(customer))
    assert len(response.context["timeline"]) == 3 * entries


def test_the_customer_page_does_not_run_more_queries_for_a_longer_timeline(client, admin_user, place_order):
    counts = []
    for entries in (2, 10):
        customer = CustomerFactory()
        _fill_timeline(customer, place_order, admin_user, entries)
        client.force_login(admin_user)
        client.get(_change_url(customer))
        with CaptureQueriesContext(connection) as queries:
            assert client.get(_change_url(customer)).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_the_timeline_filters_speak_the_staff_members_language(admin_client, member, place_order, offer):
    from club import services as club_services
    from tests.club.helpers import give_points

    give_points(member, 200)
    club_services.offer_redeem(member=member, offer=offer)
    page = admin_client.get(_change_url(member.customer), HTTP_ACCEPT_LANGUAGE="fa").content.decode()
    nav = page[page.index('class="crm-timeline-kinds"'):page.index("</nav>", page.index('class="crm-timeline-kinds"'))]
    for english in ("Coupon", "Points", "Return", "Message", "Feedback", "Survey", "Orders", "Interactions"):
        assert english not in nav
    with translation.override("fa"):
        assert str(translation.gettext("Points")) in nav and translation.gettext("Survey answers") in nav


def test_a_product_page_typed_without_a_scheme_is_stored_as_https(admin_client):
    from crm.models import Product

    response = admin_client.post(reverse("admin:crm_product_add"), {
        "sku": "TEA-9", "name": "Lahijan tea", "category": "tea", "price": "12.50", "url": "shop.example.com/tea",
        "is_active": "on"})
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Product.objects.get(sku="TEA-9").url == "https://shop.example.com/tea"


def test_a_persian_reader_counts_the_order_list_in_persian_digits(admin_client, monkeypatch):
    """The list's own counts - rows, pages, results of a search, the selection - and its amounts in ۰-۹, as the
    dashboard's figures are; the links keep their numbers (the 2nd page is still ?p=2)."""
    from crm.models import Order
    from tests.factories import OrderFactory

    for _ in range(3):
        OrderFactory(total=Decimal("1234.50"), currency="USD")
    url = reverse("admin:crm_order_changelist")

    from crm.admin.orders import OrderAdmin

    monkeypatch.setattr(OrderAdmin, "list_per_page", 2)
    page = admin_client.get(url, HTTP_ACCEPT_LANGUAGE="fa").content.decode()
    searched = admin_client.get(url, {"q": Order.objects.first().order_number}, HTTP_ACCEPT_LANGUAGE="fa").content.decode()

    paginator = page[page.index('<p class="paginator">'):page.index("</p>", page.index('<p class="paginator">'))]
    shown = re.sub(r"<[^>]+>", "", paginator)  # what the reader sees, without the links' addresses
    assert "۳ " in shown and "۲" in shown and 'href="?p=2"' in paginator
    assert not re.search(r"[0-9]", shown)
    assert "۱٬۲۳۴٫۵۰ USD" in page  # the amounts, grouped with Persian separators, as the dashboard writes them
    assert "1,234.50" not in page and "1234.50" not in page
    counter = page[page.index('class="action-counter"'):page.index("</span>", page.index('class="action-counter"'))]
    assert "۰" in counter and "۲" in counter and not any(digit in counter.split(">", 1)[1] for digit in "0123456789")
    assert "۳" in page[page.index('class="question hidden"'):]  # "select all ۳ orders"
    results = searched[searched.index('class="small quiet"'):searched.index("</span>", searched.index('class="small quiet"'))]
    assert "۱" in results and not any(digit in results.split(">", 1)[1] for digit in "0123456789")


def test_an_english_reader_keeps_western_digits_and_the_product_name(admin_client):
    from tests.factories import OrderFactory

    OrderFactory(total=Decimal("1234.50"), currency="USD")
    page = admin_client.get(reverse("admin:crm_order_changelist"), HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert "1,234.50 USD" in page and "Club CRM" in page and "Django administration" not in page
