from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FeedbackConfig(AppConfig):
    name = "feedback"
    verbose_name = _("Feedback and returns")

    def ready(self):
        from crm import signals as crm_signals
        from feedback import jobs, roles, services, timeline

        crm_signals.interaction_resolved.connect(services.invite_after_resolved_interaction, dispatch_uid="feedback.invite")
        timeline.register_entries()
        roles.register()
        jobs.register()
