"""Inbound SMS from the partner's SMS gateway."""

from rest_framework import serializers

from api.serializers.base import StrictSerializer


class InboundSmsSerializer(StrictSerializer):
    from_number = serializers.CharField(max_length=32)
    text = serializers.CharField(max_length=1600, allow_blank=True, trim_whitespace=False)
    received_at = serializers.DateTimeField(required=False)


class InboundSmsResultSerializer(serializers.Serializer):
    stop = serializers.BooleanField()
    customers_unsubscribed = serializers.IntegerField()
