from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CampaignsConfig(AppConfig):
    name = "campaigns"
    verbose_name = _("Segments and campaigns")

    def ready(self):
        from campaigns import checks, jobs, receivers, roles, selectors  # noqa: F401 (checks registers itself)
        from crm import timeline

        roles.register()
        # Analytics (issue 6): the snapshot job, its Celery task and the dashboard permissions.
        from campaigns import analytics

        analytics.register()
        jobs.register()
        receivers.connect()
        timeline.register("message", selectors.timeline_messages)
