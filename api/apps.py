from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ApiConfig(AppConfig):
    name = "api"
    verbose_name = _("Partner API")

    def ready(self):
        from api import jobs, roles, schema, webhooks  # noqa: F401  (schema registers the OpenAPI security scheme)

        jobs.register()
        roles.register()
        webhooks.connect()
