"""Direction islands (core.direction, core/templatetags/direction.py): names keep their own direction, numbers,
codes and order numbers read left to right inside right-to-left text, on pages and in messages."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.template import engines
from django.urls import reverse
from django.utils import timezone, translation

from campaigns import rendering
from club import services as club_services
from core.direction import FSI, LRI, PDI, RLI
from core.models import StaffPreference
from crm import services as crm
from crm.services import LineInput
from feedback.services.returns import order_return_link
from tests.factories import UserFactory


def render(source: str, **context) -> str:
    return engines["django"].from_string("{% load direction %}" + source).render(context)


class TestTheFilters:
    def test_it_isolates_customer_text_in_a_bdi_and_escapes_it(self):
        assert render("{{ name|bdi }}", name="<b>Sara</b>") == "<bdi>&lt;b&gt;Sara&lt;/b&gt;</bdi>"

    def test_it_makes_numbers_and_codes_left_to_right_islands(self):
        assert render("{{ amount|ltr }} {{ number|ltr }}", amount=Decimal("-6.2"), number="D-000175") == (
            '<bdi dir="ltr">-6.2</bdi> <bdi dir="ltr">D-000175</bdi>')

    def test_it_uses_unicode_isolates_where_no_markup_is_read(self):
        assert render("{% autoescape off %}{{ name|bdi }} {{ code|ltr }}{% endautoescape %}", name="کیان", code="AB-1") == (
            f"{FSI}کیان{PDI} {LRI}AB-1{PDI}")
        assert render("<title>{{ code|ltr_text }} {{ name|bdi_text }}</title>", code="D-1", name="Sara") == (
            f"<title>{LRI}D-1{PDI} {FSI}Sara{PDI}</title>")

    def test_it_leaves_nothing_as_nothing(self):
        assert render("{{ a|bdi }}{{ b|ltr }}{{ a|ltr_text }}", a=None, b="") == ""


class TestMessages:
    source = "{{ first_name }}، کد شما: {% if coupon_code %}{{ coupon_code }}{% endif %} {{ card_url }}"
    context = {"first_name": "Sara", "coupon_code": "AB-12", "card_url": "https://crm.example.com/c/x"}

    def test_it_isolates_a_persian_sms_placeholders_but_not_its_links(self):
        with translation.override("fa"):
            text = rendering.render(self.source, self.context, autoescape=False)
        assert text == f"{FSI}Sara{PDI}، کد شما: {LRI}AB-12{PDI} https://crm.example.com/c/x"

    def test_it_isolates_a_persian_email_body_with_bdi(self):
        with translation.override("fa"):
            body = rendering.render(self.source, {**self.context, "first_name": "<Sara>"}, autoescape=True)
        assert body.startswith("<bdi>&lt;Sara&gt;</bdi>") and '<bdi dir="ltr">AB-12</bdi>' in body

    def test_it_gives_the_plain_text_part_of_an_email_the_unicode_isolates_of_its_bdi_islands(self):
        with translation.override("fa"):
            body = rendering.render('<p>{{ first_name }}، کد شما: <a href="https://x.example/">{{ coupon_code }}</a></p>'
                                    '<p><bdi dir="rtl">خود</bdi></p>', self.context, autoescape=True)
        assert rendering.html_to_text(body) == (
            f"{FSI}Sara{PDI}، کد شما: {LRI}AB-12{PDI} (https://x.example/)\n{RLI}خود{PDI}")

    @pytest.mark.parametrize("source, expected", [
        ('<p title="{{ first_name }}">', f'<p title="{FSI}Sara{PDI}">'),
        ("<img alt='{{ coupon_code }}'>", f"<img alt='{LRI}AB-12{PDI}'>"),
        ("<abbr title={{ first_name }}>x</abbr>", f"<abbr title={FSI}Sara{PDI}>x</abbr>"),
        ('<a href="https://shop.example.com/?c={{ coupon_code }}" data-x="{{ first_name }}">',
         '<a href="https://shop.example.com/?c=AB-12" data-x="Sara">'),
        ("<!-- {{ first_name }} -->", "<!-- Sara -->"),
        ('<p title="a > b {{ first_name }}">', f'<p title="a > b {FSI}Sara{PDI}">'),
        ('{% if coupon_code %}<img alt="{% endif %}{{ first_name }}">', f'<img alt="{FSI}Sara{PDI}">'),
        ('<span title="{{ first_name }}">{{ first_name }}</span> 2 < 3 {{ coupon_code }}',
         f'<span title="{FSI}Sara{PDI}"><bdi>Sara</bdi></span> 2 < 3 <bdi dir="ltr">AB-12</bdi>'),
    ])
    def test_it_puts_no_markup_inside_a_tag_of_a_persian_email(self, source, expected):
        with translation.override("fa"):
            assert rendering.render(source, self.context, autoescape=True) == expected

    def test_it_leaves_an_english_message_as_written(self):
        with translation.override("en"):
            assert rendering.render("Hi {{ first_name }}: {{ coupon_code }}", self.context, autoescape=False) == (
                "Hi Sara: AB-12")


@pytest.mark.django_db
class TestPersianPages:
    def test_it_shows_the_order_number_and_total_as_left_to_right_islands_on_the_return_page(self, client):
        customer = crm.customer_create(first_name="Kian", email="kian@example.com", language="fa")
        order = crm.order_create(customer=customer, order_number="D-000175", placed_at=timezone.now() - timedelta(days=2),
                                 total="300", lines=[LineInput(sku="CF-2", product_name="Coffee 5", quantity=1,
                                                               unit_price=Decimal("300"))])
        html = client.get(order_return_link(order)).content.decode()
        assert '<bdi dir="ltr">D-000175</bdi>' in html and f"{LRI}D-000175{PDI}" in html.split("</title>")[0]
        assert '<bdi dir="ltr">CF-2</bdi>' in html and "<bdi>Coffee 5</bdi>" in html

    def test_it_shows_a_negative_points_line_and_an_order_number_left_to_right_in_the_persian_admin(
        self, client, member, offer, place_order
    ):
        staff = UserFactory(username="parisa", is_superuser=True)
        StaffPreference.objects.create(user=staff, language="fa")
        club_services.points_adjust(member=member, points=300, reason="Welcome", by=staff)
        club_services.offer_redeem(member=member, offer=offer)
        place_order(member.customer, order_number="D-000175")
        client.force_login(staff)
        html = client.get(reverse("admin:crm_customer_change", args=[member.customer_id])).content.decode()
        assert 'dir="rtl"' in html
        assert '<bdi dir="ltr">-100</bdi>' in html  # the redemption: "-100", not "100-"
        assert f"{LRI}D-000175{PDI}" in html  # the order on the timeline


def test_a_code_in_free_text_is_one_left_to_right_piece():
    from core.direction import isolate_codes_html

    assert isolate_codes_html("سفارش D-000001380 کجاست؟") == '<bdi>سفارش <bdi dir="ltr">D-000001380</bdi> کجاست؟</bdi>'
    assert isolate_codes_html("<b>SKU-12/B</b>, 2.5 kg") == (
        '<bdi>&lt;b&gt;<bdi dir="ltr">SKU-12/B</bdi>&lt;/b&gt;, <bdi dir="ltr">2.5</bdi> kg</bdi>')
    assert isolate_codes_html("a well-known e-mail") == "<bdi>a well-known e-mail</bdi>"  # words are not codes
    assert isolate_codes_html("") == ""
