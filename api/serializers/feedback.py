"""Feedback: surveys, their results, invitations and responses; the returns desk."""

from rest_framework import serializers

from api.serializers.base import StrictSerializer
from club.codes import coupon_code_format
from crm.models import MONEY
from feedback.models import ReturnLine, ReturnRequest


class SurveySerializer(serializers.Serializer):
    id = serializers.UUIDField(source="public_id")
    title = serializers.CharField()
    kind = serializers.CharField()
    trigger = serializers.CharField()
    languages = serializers.ListField(child=serializers.CharField(), source="language_codes")
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField(allow_null=True)
    is_active = serializers.BooleanField()
    is_open = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()

    def get_is_open(self, survey) -> bool:
        return survey.is_open()


class SurveyChoiceSerializer(serializers.Serializer):
    id = serializers.UUIDField(source="public_id")
    label = serializers.CharField()


class SurveyQuestionSerializer(serializers.Serializer):
    id = serializers.UUIDField(source="public_id")
    position = serializers.IntegerField()
    type = serializers.CharField()
    text = serializers.CharField()
    required = serializers.BooleanField()
    scores = serializers.CharField(allow_blank=True, help_text="'nps' or 'csat' for the question the score is read from.")
    choices = SurveyChoiceSerializer(many=True, source="choices.all")


class SurveyDetailSerializer(SurveySerializer):
    intro = serializers.CharField(allow_blank=True)
    questions = SurveyQuestionSerializer(many=True, source="questions.all")


class SurveyResultsSerializer(serializers.Serializer):
    survey = serializers.UUIDField()
    start = serializers.DateField(allow_null=True)
    end = serializers.DateField(allow_null=True, help_text="Exclusive.")
    responses = serializers.IntegerField()
    invitations = serializers.IntegerField()
    response_rate = serializers.FloatField(allow_null=True, help_text="Answered invitations / invitations, 0..1.")
    nps = serializers.IntegerField(allow_null=True, help_text="% promoters - % detractors, -100..100.")
    nps_answers = serializers.IntegerField()
    promoters = serializers.IntegerField()
    passives = serializers.IntegerField()
    detractors = serializers.IntegerField()
    csat = serializers.FloatField(allow_null=True, help_text="% of answers 4 or 5 on the 1-5 scale.")
    csat_answers = serializers.IntegerField()


class InvitationInputSerializer(StrictSerializer):
    customer = serializers.UUIDField()
    order = serializers.UUIDField(required=False, allow_null=True, help_text="The order the survey asks about, if any.")


class InvitationSerializer(serializers.Serializer):
    id = serializers.UUIDField(source="public_id")
    survey = serializers.UUIDField(source="survey.public_id")
    customer = serializers.UUIDField(source="customer.public_id")
    order = serializers.UUIDField(source="order.public_id", allow_null=True, default=None)
    link = serializers.URLField(help_text="The customer's personal survey link; shown only in this response.")
    created_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField()


class SurveyResponseSerializer(serializers.Serializer):
    """A survey answered (the `survey.answered` webhook)."""

    id = serializers.UUIDField(source="public_id")
    survey = serializers.UUIDField(source="survey.public_id")
    invitation = serializers.UUIDField(source="invitation.public_id", allow_null=True, default=None)
    customer = serializers.UUIDField(source="customer.public_id", allow_null=True, default=None)
    language = serializers.CharField(allow_blank=True)
    submitted_at = serializers.DateTimeField()


class ReturnLineInputSerializer(StrictSerializer):
    order_line = serializers.UUIDField(help_text="The `id` of a line of the order.")
    quantity = serializers.IntegerField(min_value=1, max_value=1_000_000)
    reason = serializers.ChoiceField(choices=ReturnLine.Reason.choices)
    note = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class ReturnCreateSerializer(StrictSerializer):
    order = serializers.UUIDField()
    lines = ReturnLineInputSerializer(many=True, allow_empty=False, max_length=1000)
    resolution = serializers.ChoiceField(choices=ReturnRequest.Resolution.choices, default=ReturnRequest.Resolution.REFUND)
    note = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")


class ReturnLineSerializer(serializers.Serializer):
    order_line = serializers.UUIDField(source="order_line.public_id")
    sku = serializers.CharField(source="order_line.sku", allow_blank=True)
    product_name = serializers.CharField(source="order_line.product_name", allow_blank=True)
    quantity = serializers.IntegerField()
    reason = serializers.CharField()
    note = serializers.CharField(allow_blank=True)


class ReturnEventSerializer(serializers.Serializer):
    from_state = serializers.CharField(allow_blank=True)
    to_state = serializers.CharField()
    at = serializers.DateTimeField()
    note = serializers.CharField(allow_blank=True)


class CreditReferenceField(serializers.CharField):
    """Store credit: a coupon code shown as the card shows it (ABCD-EFGH-JKMN), or "points:<row>"."""

    def to_representation(self, value):
        value = str(value or "")
        return value if not value or value.startswith("points:") else coupon_code_format(value)


class ReturnRequestSerializer(serializers.Serializer):
    id = serializers.UUIDField(source="public_id")
    order = serializers.UUIDField(source="order.public_id")
    customer = serializers.UUIDField(source="customer.public_id")
    state = serializers.ChoiceField(choices=ReturnRequest.State.choices)
    resolution = serializers.ChoiceField(choices=ReturnRequest.Resolution.choices)
    channel = serializers.CharField()
    note = serializers.CharField(allow_blank=True)
    refund_amount = serializers.DecimalField(**MONEY)
    credit_reference = CreditReferenceField(allow_blank=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    lines = ReturnLineSerializer(many=True, source="lines.all")
    events = ReturnEventSerializer(many=True, source="events.all")
