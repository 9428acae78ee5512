"""Everything analytics contributes to the platform's registries (core) and to the apps below it,
in one place (the lower apps never import analytics).

Discovered by core (core.registry.contributions_discover) like admin.py; it only declares.
The job names keep their old prefixes (crm., campaigns.): beat's PeriodicTask rows and the
JobRun history are keyed by them.
"""

from analytics import demo, rfm
from analytics import rule_fields
from analytics.admin import SEGMENT_LIST_COLUMNS, segment_list_annotations
from analytics.services import scores, snapshots
from core.customers import loyalty_condition_registry
from core.demo import demo_step_registry, seed_step
from core.jobs import Job, job_registry
from core.panels import ListColumns, list_columns_registry
from core.roles import MARKETING, RoleGrant, role_registry
from core.rule_fields import rule_fields_register


# --- Jobs -------------------------------------------------------------------------------------
for job in (
    Job(name="crm.rfm_scores", func=scores.rfm_job, schedule={"minute": "30", "hour": "3"}, queue="analytics",
        description="Recompute every customer's RFM scores and segment."),
    Job(name="crm.predict_churn", func=scores.predictions_job, schedule={"minute": "0", "hour": "4", "day_of_week": "1"},
        queue="analytics",
        description="Refit BG/NBD and Gamma-Gamma; store P(alive), expected purchases and predictive CLV."),
    Job(name="campaigns.segment_snapshots", func=snapshots.snapshots_job, schedule={"minute": "0", "hour": "5"}, queue="analytics",
        description="Compute retention and churn snapshots of every segment for the closed periods not yet computed."),
):
    job_registry.register(job.name, job)

# --- Roles: marketers read the dashboard, the scores and the fits, and may ask for a recompute ---
role_registry.register("analytics.marketing", RoleGrant(MARKETING, "analytics", {
    "segmentmetricsnapshot": ("view",), "retentiondashboard": ("view",), "analyticsrun": ("view", "add"),
    "customerscore": ("view",), "predictionfit": ("view",),
}))

# --- Customers: the top RFM segments count as "loyal" in the lifecycle stage ---------------------
loyalty_condition_registry.register("analytics.rfm", rfm.loyalty_condition)

# --- Segments: RFM, P(alive) and CLV rule fields; retention and churn columns on the segment list
rule_fields_register(*rule_fields.FIELDS)
list_columns_registry.register("analytics.segment_retention", ListColumns(
    model="campaigns.segment", annotations=segment_list_annotations, columns=tuple(SEGMENT_LIST_COLUMNS),
))

# --- Demo data: scores, predictions and snapshots after campaigns' segments ---------------------
demo_step_registry.register("analytics", seed_step(demo.seed))
