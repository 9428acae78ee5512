""""Picked for you" on the member's club card: up to five of their picks with name, price and link, in the
member's language; nothing at all when they have none; never a product off sale; one query."""

import re

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from club import services
from tests.factories.recommendations import give_picks, product

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_rate_limits():
    cache.clear()
    yield
    cache.clear()


def fa(text: str) -> str:
    with translation.override("fa"):
        return translation.gettext(text)


@pytest.fixture
def catalogue(db):
    return [product(f"P{index}", f"Product {index}", price=f"{index}000", url=f"https://shop.example/p{index}")
            for index in range(1, 8)]


def picks_section(html: str) -> str:
    match = re.search(r'<section aria-labelledby="picks-heading".*?</section>', html, re.DOTALL)
    return match.group(0) if match else ""


def test_a_persian_member_sees_five_picks_with_persian_prices_and_links(client, make_member, catalogue):
    member = make_member(language="fa")
    give_picks(member.customer, *catalogue)
    page = client.get(services.card_link(member))
    assert page.status_code == 200
    html = page.content.decode()
    section = picks_section(html)
    assert fa("Picked for you") in section and fa("Picked for you") != "Picked for you"
    assert section.count('class="field pick"') == 5
    assert '<a href="https://shop.example/p1" rel="noopener"><bdi>Product 1</bdi></a>' in section
    assert '<bdi dir="ltr">۱٬۰۰۰</bdi>' in section
    assert "Product 6" not in section
    assert 'dir="rtl"' in html


def test_an_english_member_sees_prices_in_western_digits_and_no_link_without_a_page(client, make_member):
    member = make_member(language="en")
    give_picks(member.customer, product("MUG", "Mug", price="12.5"), product("BAG", "Tote bag", price=None))
    section = picks_section(client.get(services.card_link(member)).content.decode())
    assert "Picked for you" in section
    assert "<h3><bdi>Mug</bdi></h3>" in section and '<bdi dir="ltr">12.50</bdi>' in section
    assert "<h3><bdi>Tote bag</bdi></h3>" in section and section.count('class="price"') == 1


def test_nothing_is_shown_without_picks_or_when_every_pick_is_off_sale(client, make_member):
    member = make_member(language="fa")
    html = client.get(services.card_link(member)).content.decode()
    assert "picks-heading" not in html and fa("Picked for you") not in html
    give_picks(member.customer, product("OLD", "Old kettle", active=False))
    html = client.get(services.card_link(member)).content.decode()
    assert "picks-heading" not in html and "Old kettle" not in html


def test_an_inactive_pick_is_left_out_and_the_others_shown(client, make_member):
    member = make_member(language="en")
    give_picks(member.customer, product("OLD", "Old kettle", active=False), product("NEW", "New kettle"))
    section = picks_section(client.get(services.card_link(member)).content.decode())
    assert "New kettle" in section and "Old kettle" not in section


def test_a_link_that_is_not_a_web_page_is_not_linked(client, make_member):
    member = make_member(language="en")
    give_picks(member.customer, product("JS", "Odd", url="javascript:alert(1)"))
    section = picks_section(client.get(services.card_link(member)).content.decode())
    assert "javascript:" not in section and "<bdi>Odd</bdi>" in section


def test_the_picks_cost_one_query_however_many_there_are(client, make_member, catalogue):
    few, many = make_member(language="en"), make_member(language="en")
    give_picks(few.customer, catalogue[0])
    give_picks(many.customer, *catalogue)
    counts = []
    for member in (few, many):
        client.get(services.card_link(member))  # warm the session and the rate limit
        with CaptureQueriesContext(connection) as captured:
            assert client.get(services.card_link(member)).status_code == 200
        counts.append(len(captured))
        assert sum("crm_recommendation" in query["sql"] for query in captured.captured_queries) == 1
    assert counts[0] == counts[1]
