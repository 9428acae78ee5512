from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CampaignsConfig(AppConfig):
    name = "campaigns"
    verbose_name = _("Segments and campaigns")

    def ready(self):
        # Signal receivers and Django's system checks only; what campaigns adds to the platform is
        # declared in campaigns.contributions.
        from campaigns import checks, receivers  # noqa: F401 (checks registers itself with Django's checks)

        receivers.connect()
