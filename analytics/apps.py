from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AnalyticsConfig(AppConfig):
    name = "analytics"
    label = "analytics"
    verbose_name = _("Analytics")

    def ready(self):
        register()


def register() -> None:
    """Everything analytics adds to the apps below it, in one place (the lower apps never import
    analytics): its jobs, the marketers' permissions, "top RFM counts as loyal", the RFM and
    P(alive) segment rule fields, the segment list's retention columns and the demo step.

    The job names keep their old prefixes (crm., campaigns.): beat's PeriodicTask rows and the
    JobRun history are keyed by them."""
    from campaigns import admin as campaigns_admin
    from campaigns import rules as segment_rules
    from crm import demo as crm_demo
    from crm.jobs import register_job
    from crm.querysets import register_loyalty_condition
    from crm.roles import MARKETING, register_role_permissions

    from analytics import demo, rfm
    from analytics import rules as analytics_rules
    from analytics.admin import SEGMENT_LIST_COLUMNS, segment_list_annotations
    from analytics.services import scores, snapshots

    register_loyalty_condition(rfm.loyalty_condition)
    register_job("crm.rfm_scores", scores.rfm_job, schedule={"minute": "30", "hour": "3"},
                 description="Recompute every customer's RFM scores and segment.")
    register_job("crm.predict_churn", scores.predictions_job, schedule={"minute": "0", "hour": "4", "day_of_week": "1"},
                 description="Refit BG/NBD and Gamma-Gamma; store P(alive), expected purchases and predictive CLV.")
    register_job("campaigns.segment_snapshots", snapshots.snapshots_job, schedule={"minute": "0", "hour": "5"},
                 description="Compute retention and churn snapshots of every segment for the closed periods not yet computed.")
    register_role_permissions(MARKETING, "analytics", {
        "segmentmetricsnapshot": ("view",), "retentiondashboard": ("view",), "analyticsrun": ("view", "add"),
        "customerscore": ("view",), "predictionfit": ("view",),
    })
    segment_rules.register_fields(*analytics_rules.FIELDS)
    campaigns_admin.register_segment_list_extension(annotations=segment_list_annotations, columns=SEGMENT_LIST_COLUMNS)
    crm_demo.register_step("analytics", demo.seed)
