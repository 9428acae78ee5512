from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from config import health
from config.favicon import favicon

urlpatterns = [
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
    path("favicon.ico", favicon, name="favicon"),
    path("health/", health.ready, name="health"),  # the readiness check, under its first name
    path("health/live/", health.live, name="health-live"),
    path("health/ready/", health.ready, name="health-ready"),
    path("admin/", admin.site.urls),
    path("f/", include("feedback.urls")),
    path("r/", include("feedback.urls_returns")),
    path("c/", include("campaigns.urls")),
    # The email provider's tracking webhooks (django-anymail): /anymail/<provider>/tracking/, signature checked.
    path("anymail/", include("campaigns.urls_anymail")),
    path("m/", include("club.urls_card")),  # the member's club card page
    path("api/", include("api.urls")),  # partner REST API (v1), its OpenAPI schema and docs  # unsubscribe, open pixel, click redirects of messages
]

handler500 = "config.errors.server_error"  # a 503 page with Retry-After when the database is unreachable, else a 500 with the request id
