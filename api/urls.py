from django.http import JsonResponse
from django.utils.translation import gettext as _
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.permissions import AllowAny
from rest_framework.routers import SimpleRouter

from api.exceptions import PROBLEM_CONTENT_TYPE, problem
from api.views.club import CouponRedeemView, CouponValidateView, EnrollView, MemberView, RedeemOfferView
from api.views.customers import CustomerViewSet
from api.views.orders import OrderViewSet
from api.views.sms import InboundSmsView



def not_found(request, *args, **kwargs):
    body = problem(404, kind="not_found", title=_("Not found."), detail=_("There is no such endpoint.")).data
    return JsonResponse(body, status=404, content_type=PROBLEM_CONTENT_TYPE)


router = SimpleRouter()
router.register("customers", CustomerViewSet, basename="api-customer")
router.register("orders", OrderViewSet, basename="api-order")

v1 = [
    *router.urls,
    path("club/members/<str:customer_id>/", MemberView.as_view(), name="api-club-member"),
    path("club/members/<str:customer_id>/redeem/", RedeemOfferView.as_view(), name="api-club-redeem"),
    path("club/enroll/", EnrollView.as_view(), name="api-club-enroll"),
    path("coupons/validate/", CouponValidateView.as_view(), name="api-coupon-validate"),
    path("coupons/redeem/", CouponRedeemView.as_view(), name="api-coupon-redeem"),
    path("sms/inbound/", InboundSmsView.as_view(), name="api-sms-inbound"),
    re_path(r"^.*$", not_found, name="api-not-found"),  # unknown paths answer problem details too
]

# The schema and the docs are public (they describe the API, they hold no data).
_public = {"authentication_classes": [], "permission_classes": [AllowAny], "throttle_classes": []}

urlpatterns = [
    path("v1/", include(v1)),
    path("schema/", SpectacularAPIView.as_view(**_public), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema", **_public), name="api-docs"),
]
