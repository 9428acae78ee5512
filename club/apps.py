from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ClubConfig(AppConfig):
    name = "club"
    verbose_name = _("Customer club")

    def ready(self):
        # Signal receivers only; what the club adds to the platform is declared in club.contributions.
        from club import receivers

        receivers.connect()
