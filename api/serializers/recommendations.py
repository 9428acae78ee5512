"""A customer's recommendations (GET customers/{id}/recommendations/): read-only, best first."""

from rest_framework import serializers

from core.bounds import MONEY
from crm.models import Recommendation


class WebPageField(serializers.URLField):
    """A product's web page, or null when it has none (never an empty string where a URL is promised)."""

    def __init__(self, **kwargs):
        super().__init__(read_only=True, allow_null=True, **kwargs)

    def to_representation(self, value):
        return value or None


class RecommendedProductSerializer(serializers.Serializer):
    sku = serializers.CharField(read_only=True)
    name = serializers.CharField(read_only=True)
    category = serializers.CharField(read_only=True)
    price = serializers.DecimalField(read_only=True, allow_null=True, help_text="The current catalogue price.", **MONEY)
    url = WebPageField(help_text="The product's web page; null when it has none.")


class RecommendationSerializer(serializers.Serializer):
    product = RecommendedProductSerializer(read_only=True)
    rank = serializers.IntegerField(read_only=True, min_value=1, max_value=10, help_text="1 is the best pick.")
    score = serializers.FloatField(read_only=True, help_text="The recommender's score; higher is stronger.")
    reason = serializers.ChoiceField(
        choices=Recommendation.Reason.choices, read_only=True,
        help_text="together: bought together with the customer's products; due: a product of theirs due again; "
                  "popular: popular with similar customers (too little history of their own).",
    )
    computed_at = serializers.DateTimeField(read_only=True)


class RecommendationListSerializer(serializers.Serializer):
    results = RecommendationSerializer(many=True)
