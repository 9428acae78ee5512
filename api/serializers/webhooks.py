"""The partner's webhook subscriptions (the payloads are the resources' own serializers)."""

from rest_framework import serializers

from api.models import WebhookEvent
from api.serializers.base import StrictSerializer


class WebhookSubscriptionSerializer(StrictSerializer):
    """A webhook subscription: where the partner's events are POSTed, and which ones."""

    id = serializers.UUIDField(source="public_id", read_only=True)
    url = serializers.URLField(max_length=500, help_text="https:// URL the events are POSTed to.")
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=WebhookEvent.choices), allow_empty=False, max_length=len(WebhookEvent.values),
    )
    active = serializers.BooleanField(default=True)
    own_data_only = serializers.BooleanField(
        read_only=True, help_text="Set from the key that created it: only events about the partner's own customers.",
    )
    created_at = serializers.DateTimeField(read_only=True)


class WebhookSubscriptionCreatedSerializer(WebhookSubscriptionSerializer):
    """The new subscription with its signing secret (this response only)."""

    secret = serializers.CharField(
        read_only=True,
        help_text="Signs every delivery (X-Webhook-Signature). Shown in this response only: store it now.",
    )
