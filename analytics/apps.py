from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AnalyticsConfig(AppConfig):
    name = "analytics"
    label = "analytics"
    verbose_name = _("Analytics")
    # No ready(): what analytics adds to the platform and to the apps below it is declared in
    # analytics.contributions.
