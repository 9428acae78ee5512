"""The "Recommendations" panel of the admin's customer page: the customer's ten picks with rank, product, why,
score, price and when they were computed, in the staff member's language; products off sale left out; one
query however many picks there are."""

import re
from datetime import datetime, timezone as dt_timezone

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from core import panels
from crm.models import Recommendation
from crm.picks import render_recommendations_panel
from tests.factories import CustomerFactory
from tests.factories.recommendations import give_picks, product

pytestmark = pytest.mark.django_db


def change_url(customer):
    return reverse("admin:crm_customer_change", args=[customer.pk])


def panel_of(html: str) -> str:
    match = re.search(r'<section id="crm-recommendations".*?</section>', html, re.DOTALL)
    assert match, "no recommendations panel"
    return match.group(0)


@pytest.fixture
def catalogue(db):
    return [product(f"SKU-{index:02d}", f"Product {index}", price=f"{index}.50",
                    url=f"https://shop.example/{index}" if index % 2 else "")
            for index in range(1, 13)]


def test_support_staff_see_the_ten_picks_with_their_details(client, support_user, catalogue):
    customer = CustomerFactory()
    when = datetime(2026, 11, 30, 2, 15, tzinfo=dt_timezone.utc)
    give_picks(customer, *catalogue, reason=Recommendation.Reason.DUE_AGAIN, computed_at=when)
    client.force_login(support_user)
    panel = panel_of(client.get(change_url(customer)).content.decode())
    assert panel.count('class="crm-recommendation"') == 10
    assert "Product 11" not in panel and "Product 12" not in panel
    assert '<a href="https://shop.example/1" rel="noopener noreferrer" target="_blank"><bdi>Product 1</bdi></a>' in panel
    assert "SKU-02" in panel and "Due again" in panel and '<bdi dir="ltr">1.50</bdi>' in panel
    assert '<bdi dir="ltr">0.950</bdi>' in panel  # the score of rank 1
    assert "2026" in panel


def test_in_persian_the_reason_the_numbers_and_the_date_are_persian(client, support_user, catalogue):
    customer = CustomerFactory()
    give_picks(customer, catalogue[0])
    client.force_login(support_user)
    html = client.get(change_url(customer), HTTP_ACCEPT_LANGUAGE="fa").content.decode()
    panel = panel_of(html)
    with translation.override("fa"):
        assert translation.gettext("Recommendations") in panel
        assert str(Recommendation.Reason.BOUGHT_TOGETHER.label) in panel
    assert '<bdi dir="ltr">۱٫۵۰</bdi>' in panel


def test_a_customer_without_picks_reads_so_and_products_off_sale_are_left_out(client, support_user):
    customer = CustomerFactory()
    give_picks(customer, product("OLD", "Old kettle", active=False))
    client.force_login(support_user)
    panel = panel_of(client.get(change_url(customer)).content.decode())
    assert "No recommendations for this customer yet." in panel and "Old kettle" not in panel


def test_the_panel_reads_the_picks_in_one_query(rf, support_user, catalogue):
    few, many = CustomerFactory(), CustomerFactory()
    give_picks(few, catalogue[0])
    give_picks(many, *catalogue)
    request = rf.get("/")
    request.user = support_user
    support_user.has_perm("crm.view_customer")  # the permission cache, as the page before the panel fills it
    for customer in (few, many):
        with CaptureQueriesContext(connection) as captured:
            html = render_recommendations_panel(request, customer)
        assert len(captured) == 1 and "Product 1" in html


def test_it_is_a_declared_panel_shown_only_to_staff_who_may_view_customers(rf, outsider):
    assert panels.panel_registry["crm_recommendations"] is render_recommendations_panel
    request = rf.get("/")
    request.user = outsider
    assert render_recommendations_panel(request, CustomerFactory()) == ""
