from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FeedbackConfig(AppConfig):
    name = "feedback"
    verbose_name = _("Feedback and returns")

    def ready(self):
        from crm import signals as crm_signals
        from crm import demo as crm_demo
        from feedback import demo, jobs, roles, services, timeline

        crm_signals.interaction_resolved.connect(services.invite_after_resolved_interaction, dispatch_uid="feedback.invite")
        timeline.register_entries()
        roles.register()
        jobs.register()
        # Privacy (issue 8): invitations, responses and returns in the export; erasure of free text.
        from crm import privacy
        from feedback import privacy as feedback_privacy

        privacy.register_exporter("feedback", feedback_privacy.export_feedback)
        privacy.register_eraser("feedback", feedback_privacy.erase_feedback)
        crm_demo.register_step("feedback", demo.seed)
