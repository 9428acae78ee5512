"""What every serializer of the API shares: strict input, problem details, a period."""

from decimal import Decimal, InvalidOperation

from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import serializers

from core.bounds import AMOUNT_MAX, MONEY, amount_limit_text

MAX_TEXT = 10_000


def datetime_text(value, tz=None):
    """As DRF's DateTimeField renders an aware datetime: ISO 8601 in the current time zone (or `tz`), UTC as `Z`.

    Pages pass `tz` once: looking the current time zone up costs more than the rendering itself."""
    if value is None:
        return None
    text = value.astimezone(tz or timezone.get_current_timezone()).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def money_text(value, field: serializers.DecimalField) -> str:
    """`field.to_representation(value)` (a test holds the two equal), without its quantizing in the usual case: a
    Decimal read from a money column already has the field's two places, and then its text is the answer (DRF's
    quantize and format were a tenth of an order page's time, issue 17)."""
    places = field.decimal_places
    if type(value) is Decimal and places:
        text = str(value)
        # The field's places exactly (a scientific notation never has its point there), and no more digits than it.
        if len(text) > places and text[-places - 1] == "." and len(text) - 1 - (text[0] == "-") <= field.max_digits:
            return text
    return field.to_representation(value)


class AmountField(serializers.DecimalField):
    """A money amount a partner sends, bounded as on every other road (core.bounds.AMOUNT_MAX).

    The size is checked before DRF counts digits, so a too-large amount is answered with the
    limit itself ("at most 999,999,999,999,999.99"), as the importer and the services say it."""

    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", 0)
        # The column's digits, so that any stored amount renders (SQLite rounds to 15 significant digits).
        super().__init__(max_value=AMOUNT_MAX, **MONEY, **kwargs)

    def to_internal_value(self, data):
        try:
            number = Decimal(str(data).strip())
        except (InvalidOperation, ValueError):
            number = None
        if number is not None and number.is_finite() and abs(number) > AMOUNT_MAX:
            self.fail("max_value", max_value=amount_limit_text())
        return super().to_internal_value(data)


class StrictSerializer(serializers.Serializer):
    """Refuses unknown fields (a typo must not be silently ignored) and read-only ones sent as input."""

    def to_internal_value(self, data):
        if isinstance(data, dict):
            writable = {name for name, field in self.fields.items() if not field.read_only}
            unknown = sorted(set(data) - writable)
            if unknown:
                raise serializers.ValidationError({name: [_("Unknown or read-only field.")] for name in unknown})
        return super().to_internal_value(data)


class ProblemSerializer(serializers.Serializer):
    """RFC 9457 problem details."""

    type = serializers.CharField()
    title = serializers.CharField()
    status = serializers.IntegerField()
    detail = serializers.CharField()
    errors = serializers.DictField(child=serializers.ListField(child=serializers.CharField()), required=False)


class PeriodQuerySerializer(StrictSerializer):
    """An optional period [start, end) in whole days."""

    start = serializers.DateField(required=False)
    end = serializers.DateField(required=False)

    def validate(self, attrs):
        start, end = attrs.get("start"), attrs.get("end")
        for name, day in (("start", start), ("end", end)):
            if day is not None and not 1900 <= day.year <= 2200:
                raise serializers.ValidationError({name: [_("Give a date between the years 1900 and 2200.")]})
        if start and end and end <= start:
            raise serializers.ValidationError({"end": [_("The end must be after the start.")]})
        return attrs
