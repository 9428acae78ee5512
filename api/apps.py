from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ApiConfig(AppConfig):
    name = "api"
    verbose_name = _("Partner API")

    def ready(self):
        # Signal receivers only (and the OpenAPI security scheme, which drf-spectacular finds by import);
        # what the API adds to the platform is declared in api.contributions.
        from api import keys, schema, webhooks  # noqa: F401

        webhooks.connect()
        keys.connect()
