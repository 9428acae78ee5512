"""Club content in the reader's language: tier names, offer titles and descriptions, earning rule names per
language (club/translation.py) with the default language as the fallback, and ledger lines rendered from
their facts when read, never English sentences stored at write time."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.core.cache import cache
from django.test import Client
from django.utils import timezone, translation

from club import services
from club.models import EarningRule, Offer, PointsTransaction, Tier
from club.selectors import member_card
from crm.models import Customer
from tests.factories import EarningRuleFactory, OfferFactory

pytestmark = pytest.mark.django_db


def fa(text: str, **values) -> str:
    with translation.override("fa"):
        return translation.gettext(text) % values if values else translation.gettext(text)


@pytest.fixture(autouse=True)
def fresh_rate_limits():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def persian_member(make_member):
    return make_member(language="fa")


def card_page(member) -> str:
    response = Client().get(services.card_link(member))
    assert response.status_code == 200
    return response.content.decode()


class TestTranslatedContent:
    def test_it_shows_a_tier_named_in_persian_on_the_persian_card(self, persian_member, tiers):
        Tier.objects.filter(pk=tiers["bronze"].pk).update(name_fa="برنزی")
        page = card_page(persian_member)
        assert "برنزی" in page
        assert "Bronze" not in page

    def test_it_falls_back_to_the_default_language_when_there_is_no_translation(self, persian_member):
        offer = OfferFactory(title_en="Free delivery", description_en="On any order", points_cost=0)
        assert offer.title_fa is None
        page = card_page(persian_member)
        assert "Free delivery" in page and "On any order" in page

    def test_it_shows_an_offer_in_the_readers_language(self, persian_member):
        OfferFactory(title_en="A free pastry", title_fa="یک شیرینی رایگان", description_en="With any coffee",
                     description_fa="با هر قهوه", points_cost=0)
        page = card_page(persian_member)
        assert "یک شیرینی رایگان" in page and "با هر قهوه" in page
        assert "A free pastry" not in page
        with translation.override("ar"):
            assert Offer.objects.get().title == "A free pastry"  # no Arabic yet: the default language

    def test_it_keeps_the_default_languages_value_in_the_column_rules_and_filters_read(self, member, tiers):
        with translation.override("fa"):
            Tier.objects.filter(pk=tiers["bronze"].pk).update(name_fa="برنزی")
            bronze = Tier.objects.get(pk=tiers["bronze"].pk)
            assert bronze.name == "برنزی"
            bronze.save()
        assert list(Customer.objects.filter(membership__tier__name="Bronze")) == [member.customer]

    def test_it_gives_partners_the_default_languages_name_whatever_the_readers_language(self, tiers):
        from core.content import in_default_language

        Tier.objects.filter(pk=tiers["gold"].pk).update(name_fa="طلایی")
        with translation.override("fa"):
            gold = Tier.objects.get(pk=tiers["gold"].pk)
            assert (gold.name, in_default_language(gold, "name")) == ("طلایی", "Gold")

    def test_it_names_a_custom_events_line_by_the_rules_name_in_the_readers_language(self, persian_member):
        rule = EarningRuleFactory(kind=EarningRule.Kind.EVENT, event_name="app_review", points=100,
                                  name_en="Reviewed the app", name_fa="نقد برنامه")
        services.points_award_for_event(member=persian_member, event=rule.event_name, idempotency_key="k1")
        row = PointsTransaction.objects.get(source=PointsTransaction.Source.EVENT)
        assert row.reason == ""
        with translation.override("fa"):
            assert row.description == "نقد برنامه"
        with translation.override("en"):
            assert row.description == "Reviewed the app"


class TestLedgerLines:
    def test_it_shows_earned_redeemed_and_expired_lines_in_persian_on_the_persian_card(
        self, persian_member, place_order, offer
    ):
        start = timezone.now() - timedelta(days=400)
        with time_machine.travel(start, tick=False):
            order = place_order(persian_member.customer, at=start, total="300.00", order_number="W-1001")
            earned_on = timezone.localdate(start)
        services.points_expire_due(run_date=timezone.localdate())
        services.points_adjust(member=persian_member, points=200, reason="گل برای شما", by=None)
        services.offer_redeem(member=persian_member, offer=offer)

        rows = {row.kind: row for row in PointsTransaction.objects.filter(member=persian_member)}
        assert set(rows) == {"earn", "expire", "adjust", "redeem"}
        assert all(row.reason == "" for kind, row in rows.items() if kind != "adjust")  # facts, no stored sentence

        page = card_page(persian_member)
        for line in (fa("Order %(number)s", number=order.order_number),
                     fa("Points earned on %(date)s expired", date=earned_on),
                     fa("Offer: %(title)s", title=offer.title),
                     "گل برای شما"):
            assert line in page
        assert fa("Order %(number)s", number="x") != "Order x"  # the Persian catalogue has them
        for english in ("Order W-1001", "expired", "Offer: "):
            assert english not in page

    def test_it_renders_the_same_rows_in_english_for_an_english_reader(self, member, place_order, offer):
        order = place_order(member.customer, total="300.00")
        services.offer_redeem(member=member, offer=offer)
        with translation.override("en"):
            lines = [row.description for row in PointsTransaction.objects.with_facts().filter(member=member)]
        assert f"Order {order.order_number}" in lines and "Offer: 10% off" in lines

    def test_it_keeps_a_stored_line_of_an_old_row_that_has_no_facts(self, member):
        row = PointsTransaction.objects.create(member=member, points=10, kind="earn", source="system",
                                               reason="Migrated from the old till", idempotency_key="old:1")
        with translation.override("fa"):
            assert row.description == "Migrated from the old till"

    def test_it_renders_an_old_rows_line_from_its_facts_not_its_stored_english(self, member, place_order):
        order = place_order(member.customer, total="300.00")
        PointsTransaction.objects.create(member=member, points=-5, kind="reverse", source="order", order=order,
                                         reason=f"Reversal for order {order.order_number}", idempotency_key="old:2")
        row = PointsTransaction.objects.with_facts().get(idempotency_key="old:2")
        with translation.override("fa"):
            assert row.description == fa("Reversal for order %(number)s", number=order.order_number)

    def test_it_reads_the_card_lines_in_a_fixed_number_of_queries(self, member, place_order, offer,
                                                                    django_assert_max_num_queries):
        for _ in range(3):
            place_order(member.customer, total="300.00")
        services.offer_redeem(member=member, offer=offer)
        with django_assert_max_num_queries(8):
            card = member_card(member)
            lines = [row.description for row in card.transactions]
        assert len(lines) == 4


class TestTheAdmin:
    @pytest.mark.parametrize("model, fields", [
        ("tier", ("name", "description")), ("offer", ("title", "description")), ("earningrule", ("name",)),
    ])
    def test_it_offers_a_field_per_language_on_the_add_form(self, admin_client, model, fields):
        page = admin_client.get(f"/admin/club/{model}/add/").content.decode()
        for field in fields:
            for language, direction in (("en", "ltr"), ("fa", "rtl"), ("ar", "rtl")):
                # each language is typed in its own direction, whatever the admin's
                assert re.search(rf'<(input|textarea)[^>]*name="{field}_{language}"[^>]*dir="{direction}"', page)

    def test_it_keeps_the_english_name_in_the_column_rules_read_when_a_persian_speaker_saves(
        self, admin_client, member, tiers
    ):
        response = admin_client.post(f"/admin/club/tier/{tiers['bronze'].pk}/change/", {
            "name_en": "Bronze", "name_fa": "برنزی", "name_ar": "", "rank": 1, "threshold": "0", "points_multiplier": "1.00",
            "birthday_discount_kind": "percent", "birthday_discount_value": "10",
            "description_en": "", "description_fa": "", "description_ar": "",
        }, HTTP_ACCEPT_LANGUAGE="fa")
        assert response.status_code == 302, response.content.decode()[:2000]
        bronze = Tier.objects.get(pk=tiers["bronze"].pk)
        assert (bronze.name_en, bronze.name_fa) == ("Bronze", "برنزی")
        # The segment rule "tier = Bronze" and the API's tier filter read the original column.
        assert list(Customer.objects.filter(membership__tier__name="Bronze")) == [member.customer]

    def test_it_refuses_a_tier_without_its_default_language_name(self, admin_client, tiers):
        response = admin_client.post("/admin/club/tier/add/", {
            "name_en": "", "name_fa": "الماس", "rank": 9, "threshold": "9000", "points_multiplier": "1.00",
            "birthday_discount_kind": "percent", "birthday_discount_value": "0",
        })
        assert response.status_code == 200
        assert response.context["adminform"].form.errors["name_en"]
        assert not Tier.objects.filter(rank=9).exists()


    def test_it_names_the_order_once_in_a_ledger_line_on_the_admin_card(self, admin_client, member, place_order):
        place_order(member.customer, total="300.00", order_number="W-77")
        page = admin_client.get(f"/admin/club/membership/{member.pk}/change/").content.decode()
        assert "Order W-77" in page and "W-77 · W-77" not in page
