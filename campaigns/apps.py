from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CampaignsConfig(AppConfig):
    name = "campaigns"
    verbose_name = _("Segments and campaigns")

    def ready(self):
        from campaigns import checks, jobs, receivers, roles, selectors  # noqa: F401 (checks registers itself)
        from crm import timeline

        roles.register()
        jobs.register()
        receivers.connect()
        timeline.register("message", selectors.timeline_messages)
        # Privacy (issue 8): messages in the export; erasure suppresses the addresses.
        from campaigns import privacy as campaigns_privacy
        from crm import privacy

        privacy.register_exporter("campaigns", campaigns_privacy.export_campaigns)
        privacy.register_eraser("campaigns", campaigns_privacy.erase_campaigns)
        from campaigns import demo
        from crm import demo as crm_demo

        crm_demo.register_step("campaigns", demo.seed)
