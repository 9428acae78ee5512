from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = _("Platform")

    def ready(self):
        from django.contrib.auth.signals import user_logged_in
        from django.db.models.signals import post_migrate
        from simple_history.signals import pre_create_historical_record

        from core import audit, jobs, middleware, roles
        from core.registry import contributions_discover

        # Every app's contributions.py fills the registries (core.registry); every model is loaded by now.
        contributions_discover()
        post_migrate.connect(roles.sync_role_groups, dispatch_uid="core.sync_role_groups")
        # Beat's PeriodicTask rows follow the job registry (core.jobs) after every migrate.
        post_migrate.connect(jobs.sync_periodic_tasks, sender=self, dispatch_uid="core.sync_periodic_tasks")
        # Each historical row records where its change came from (core.audit).
        pre_create_historical_record.connect(audit.record_source, dispatch_uid="core.audit.record_source")
        # The admin speaks each staff member's language, read once at sign-in (core.middleware).
        user_logged_in.connect(middleware.remember_staff_language, dispatch_uid="core.remember_staff_language")
