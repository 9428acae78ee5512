from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CrmConfig(AppConfig):
    name = "crm"
    verbose_name = _("Customers")

    def ready(self):
        from django.db.models.signals import post_migrate

        from crm import jobs, roles, timeline

        timeline.register_crm_entries()
        post_migrate.connect(roles.sync_role_groups, dispatch_uid="crm.sync_role_groups")
        # Beat's PeriodicTask rows follow the job registry (crm.jobs) after every migrate.
        post_migrate.connect(jobs.sync_periodic_tasks, sender=self, dispatch_uid="crm.sync_periodic_tasks")
        # The admin speaks each staff member's language, read once at sign-in (crm.middleware).
        from django.contrib.auth.signals import user_logged_in

        from crm.middleware import remember_staff_language

        user_logged_in.connect(remember_staff_language, dispatch_uid="crm.remember_staff_language")
