from django.http import JsonResponse
from django.utils.translation import gettext as _
from django.urls import include, path, re_path
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.permissions import AllowAny

from api.exceptions import PROBLEM_CONTENT_TYPE, problem
from api.views import campaigns, club, customers, feedback, orders, segments, sms, webhooks


@csrf_exempt  # a POST to an unknown path is a 404 in problem details, not the CSRF check's HTML 403
def not_found(request, *args, **kwargs):
    body = problem(404, kind="not_found", title=_("Not found."), detail=_("There is no such endpoint.")).data
    return JsonResponse(body, status=404, content_type=PROBLEM_CONTENT_TYPE)


# Each view module owns its routes (`urlpatterns`); this file only puts them together.
v1 = [
    *customers.urlpatterns,
    *orders.urlpatterns,
    *club.urlpatterns,
    *feedback.urlpatterns,
    *segments.urlpatterns,
    *campaigns.urlpatterns,
    *webhooks.urlpatterns,
    *sms.urlpatterns,
    re_path(r"^[\s\S]*$", not_found, name="api-not-found"),  # unknown paths answer problem details too
]

# The schema and the docs are public (they describe the API, they hold no data).
_public = {"authentication_classes": [], "permission_classes": [AllowAny], "throttle_classes": []}

urlpatterns = [
    path("v1/", include(v1)),
    path("schema/", SpectacularAPIView.as_view(**_public), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema", **_public), name="api-docs"),
]
