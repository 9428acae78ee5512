"""Inbound SMS from the partner's SMS gateway: "STOP" / "لغو" / "إلغاء" withdraws SMS consent."""

from django.urls import path
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import APIView

from api.idempotency import idempotent
from api.serializers import InboundSmsResultSerializer, InboundSmsSerializer
from campaigns.services import inbound_sms_record


class InboundSmsView(APIView):
    required_scopes = {"POST": "customers:write"}

    @extend_schema(request=InboundSmsSerializer, responses={201: InboundSmsResultSerializer})
    @idempotent
    def post(self, request):
        if request.auth.own_data_only:
            # A STOP applies to every customer with that number, not only this partner's.
            raise exceptions.PermissionDenied(_("A key limited to its own customers cannot record inbound SMS."))
        serializer = InboundSmsSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        record = inbound_sms_record(**serializer.validated_data)
        return Response({"stop": record.is_stop, "customers_unsubscribed": record.customers_unsubscribed},
                        status=status.HTTP_201_CREATED)


urlpatterns = [
    path("sms/inbound/", InboundSmsView.as_view(), name="api-sms-inbound"),
]
