"""Messages name club content (tier, offer) in the message's language, not the sending worker's."""

import pytest
from django.utils import translation

from campaigns.services.content import content_in
from club.models import Tier
from tests.factories import OfferFactory

pytestmark = pytest.mark.django_db


class TestMessages:
    def test_it_names_the_tier_and_the_offer_in_the_messages_language_with_the_english_fallback(self, tiers):
        Tier.objects.filter(pk=tiers["gold"].pk).update(name_fa="طلایی")
        gold = Tier.objects.get(pk=tiers["gold"].pk)
        offer = OfferFactory(title_en="Free delivery", title_ar="توصيل مجاني")
        with translation.override("en"):  # the sending worker's language does not matter
            assert content_in(gold, "name", "fa") == "طلایی"
            assert content_in(gold, "name", "ar") == "Gold"
            assert content_in(offer, "title", "ar") == "توصيل مجاني"
            assert content_in(offer, "title", "fa") == "Free delivery"
