from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CrmConfig(AppConfig):
    name = "crm"
    verbose_name = _("Customers")

    def ready(self):
        from django.db.models.signals import post_migrate

        from crm import roles, timeline

        timeline.register_crm_entries()
        post_migrate.connect(roles.sync_role_groups, dispatch_uid="crm.sync_role_groups")
