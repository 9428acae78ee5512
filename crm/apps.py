from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CrmConfig(AppConfig):
    name = "crm"
    verbose_name = _("Customers")
    # No ready(): crm connects no receiver of its own; what it adds to the platform is declared in
    # crm.contributions.
