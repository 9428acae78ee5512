"""Everything campaigns contributes to the platform's registries (core), in one place.

Discovered by core (core.registry.contributions_discover) like admin.py; it only declares.
"""

from django.utils.translation import gettext_lazy as _

from campaigns import demo, jobs, selectors
from campaigns import privacy as campaigns_privacy
from campaigns.admin import add_to_static_segment
from core.demo import demo_step_registry, seed_step
from core.jobs import Job, job_registry
from core.panels import AdminAction, admin_action_registry
from core.privacy import eraser_registry, exporter_registry
from core.roles import CLUB_MANAGERS, MARKETING, SUPPORT, RoleGrant, role_registry
from core.timeline import timeline_contribute


# --- Roles ------------------------------------------------------------------------------------
role_registry.register("campaigns.marketing", RoleGrant(MARKETING, "campaigns", {
    "segment": ("view", "add", "change", "delete"), "segmentmember": ("view", "add", "delete"),
    # Marketing owns campaigns and automations; "change" on a campaign includes sending it.
    "campaign": ("view", "add", "change", "delete"), "campaignvariant": ("view", "add", "change", "delete"),
    "campaignevent": ("view",),  # the audit trail: written by the services only
    "automation": ("view", "add", "change"), "message": ("view",), "deliveryevent": ("view",), "trackedlink": ("view",),
    "suppression": ("view", "add"), "inboundsms": ("view",),
}))
role_registry.register("campaigns.club_managers", RoleGrant(CLUB_MANAGERS, "campaigns", {
    "segment": ("view",), "campaign": ("view",), "campaignvariant": ("view",), "campaignevent": ("view",),
    "automation": ("view",),
    "message": ("view",), "deliveryevent": ("view",),
}))
# Support reads the messages a customer got (their timeline); it cannot touch campaigns.
role_registry.register("campaigns.support", RoleGrant(SUPPORT, "campaigns", {"message": ("view",), "deliveryevent": ("view",)}))

# --- Jobs -------------------------------------------------------------------------------------
for job in (
    Job(name="campaigns.dispatch", func=jobs.dispatch, schedule={"minute": "*"},
        description="Start scheduled campaigns, send A/B winners, sweep dead workers' claims, queue stalled messages."),
    Job(name="campaigns.win_back", func=jobs.win_back, schedule={"minute": "0", "hour": "9"},
        description="Win-back message to customers whose last counted order was N days ago (once per cooldown)."),
    Job(name="campaigns.replenishment", func=jobs.replenishment, schedule={"minute": "10", "hour": "9"},
        description="Remind customers when a product they bought is due again, unless they bought it again."),
    Job(name="campaigns.post_purchase", func=jobs.post_purchase, schedule={"minute": "20", "hour": "9"},
        description="Thank-you message N days after an order is fulfilled (once per order)."),
    Job(name="campaigns.conversions", func=jobs.conversions, schedule={"minute": "40", "hour": "3"},
        description="Attribute imported orders to the messages that preceded them (conversions)."),
    Job(name="campaigns.sms_delivery", func=jobs.sms_delivery, schedule={"minute": "*/15"},
        description="Ask the SMS provider about messages whose delivery report has not come (the last 48 hours)."),
    # Before analytics' snapshots (05:00): they read the membership this job materializes.
    Job(name="campaigns.segments_refresh", func=jobs.segments_refresh, schedule={"minute": "30", "hour": "4"},
        queue="analytics",
        description="Recompute every segment's members (rules that depend on today are evaluated now) and its size."),
    Job(name="campaigns.retention_messages", func=jobs.retention_messages, schedule={"minute": "45", "hour": "3"},
        description="Retention policy: delete messages older than RETENTION_MESSAGES_DAYS (0: keep; in-flight ones stay)."),
):
    job_registry.register(job.name, job)

# --- The customer: timeline, and an action of crm's customer list ----------------------------------
timeline_contribute("message", selectors.timeline_messages, label=_("Messages"))
timeline_contribute("delivery", selectors.timeline_delivery_events, label=_("Delivery reports"))
admin_action_registry.register("add_to_static_segment", AdminAction(model="crm.customer", func=add_to_static_segment))

# --- Privacy (issue 8): messages in the export; erasure suppresses the addresses ---------------------
exporter_registry.register("campaigns", campaigns_privacy.export_campaigns)
eraser_registry.register("campaigns", campaigns_privacy.erase_campaigns)

# --- Demo data --------------------------------------------------------------------------------
demo_step_registry.register("campaigns", seed_step(demo.seed))
