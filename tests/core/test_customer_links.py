"""The customer's return, card and survey links on the staff's customer, order and membership pages."""

import pytest
import time_machine
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from club.card import card_link
from feedback.services import invitation_create
from feedback.services.returns import order_return_link
from feedback.services.survey_links import survey_link

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def still_clock():
    """Signed links carry their signing time: a stopped clock makes the page's links equal the ones built here."""
    with time_machine.travel(timezone.now(), tick=False):
        yield
BASE = "https://shop.example"


def _link_values(response, section_id: str) -> dict[str, str]:
    from html5lib import parse

    document = parse(response.content.decode(), namespaceHTMLElements=False)
    section = document.find(f".//section[@id='{section_id}']")
    if section is None:
        return {}
    return {div.get("data-link"): div.find(".//input").get("value") for div in section.iter("div") if div.get("data-link")}


@override_settings(CAMPAIGNS_PUBLIC_BASE_URL=BASE)
def test_it_shows_the_card_return_and_survey_links_on_the_customer_page(client, support_user, member, place_order, survey):
    customer = member.customer
    order = place_order(customer, days_ago=2)
    invitation_create(survey=survey, customer=customer)
    client.force_login(support_user)
    response = client.get(reverse("admin:crm_customer_change", args=[customer.pk]))
    links = _link_values(response, "customer-links")
    assert links == {"card": BASE + card_link(member), "return": BASE + order_return_link(order),
                     "survey": BASE + survey_link(survey=survey, customer=customer)}
    assert b'aria-label="Copy: Club card link"' in response.content


@override_settings(CAMPAIGNS_PUBLIC_BASE_URL=BASE)
def test_it_shows_no_return_link_once_the_window_closed_nor_for_a_cancelled_order(client, support_user, customer,
                                                                                 place_order, settings):
    old = place_order(customer, days_ago=settings.FEEDBACK_RETURN_WINDOW_DAYS + 2)
    client.force_login(support_user)
    assert "return" not in _link_values(client.get(reverse("admin:crm_customer_change", args=[customer.pk])), "customer-links")
    assert _link_values(client.get(reverse("admin:crm_order_change", args=[old.pk])), "order-links") == {}


@override_settings(CAMPAIGNS_PUBLIC_BASE_URL=BASE)
def test_it_shows_the_return_link_on_the_order_page(client, support_user, customer, place_order):
    order = place_order(customer, days_ago=1)
    client.force_login(support_user)
    response = client.get(reverse("admin:crm_order_change", args=[order.pk]))
    assert _link_values(response, "order-links") == {"return": BASE + order_return_link(order)}


@override_settings(CAMPAIGNS_PUBLIC_BASE_URL=BASE)
def test_it_shows_the_card_link_on_the_membership_page(client, support_user, member):
    client.force_login(support_user)
    response = client.get(reverse("admin:club_membership_change", args=[member.pk]))
    assert _link_values(response, "membership-links") == {"card": BASE + card_link(member)}


def test_the_customer_links_cost_three_queries_whatever_the_customer_has(member, place_order, survey,
                                                                        django_assert_num_queries):
    from core.links import customer_links

    for _index in range(3):
        place_order(member.customer, days_ago=1)
    invitation_create(survey=survey, customer=member.customer)
    # the membership (club), the latest returnable order and the pending invitation with its survey (feedback)
    with django_assert_num_queries(3):
        assert [link.key for link in customer_links(member.customer)] == ["card", "return", "survey"]
