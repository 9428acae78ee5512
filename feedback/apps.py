from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FeedbackConfig(AppConfig):
    name = "feedback"
    verbose_name = _("Feedback and returns")

    def ready(self):
        # Signal receivers only; what feedback adds to the platform is declared in feedback.contributions.
        from crm import signals as crm_signals
        from feedback import services

        crm_signals.interaction_resolved.connect(services.invite_after_resolved_interaction, dispatch_uid="feedback.invite")
