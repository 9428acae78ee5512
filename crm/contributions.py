"""Everything crm contributes to the platform's registries (core), in one place.

Discovered by core (core.registry.contributions_discover) like admin.py; nothing here runs
anything: it only declares.
"""

from django.utils.translation import gettext_lazy as _

from core import audit
from core.audit import HistorySource, history_source_registry
from core.demo import demo_step_registry
from core.jobs import Job, job_registry
from core.panels import panel_registry
from core.privacy import eraser_registry, exporter_registry
from core.roles import CLUB_MANAGERS, MARKETING, SUPPORT, RoleGrant, role_registry
from core.rule_fields import rule_fields_register
from core.timeline import timeline_contribute
from crm import access, demo, picks, privacy, rule_fields, timeline_entries
from crm.models import Customer


def recommendations_refresh(run_date):
    from crm.recommend.refresh import refresh_job

    return refresh_job(run_date)


def retention_interactions(run_date):
    from crm.retention import interactions_purge

    return interactions_purge(run_date=run_date)


# --- Roles: crm's own models ------------------------------------------------------------------
# In the admin, "change" on an order means cancelling or refunding it (the order form itself is
# read-only: orders come from imports and the API), and the consent history is read-only: consent
# changes when a customer's form is saved.
role_registry.register("crm.support", RoleGrant(SUPPORT, "crm", {
    "customer": ("view", "add", "change"),
    "interaction": ("view", "add", "change"),
    "order": ("view", "change"),
    "orderline": ("view",),
    "product": ("view",),
    "consentchange": ("view",),
    "tag": ("view",),
}))
role_registry.register("crm.marketing", RoleGrant(MARKETING, "crm", {
    "customer": ("view", "change", "import_customers"),
    "interaction": ("view",),
    "order": ("view", "import_orders"),
    "orderline": ("view",),
    "product": ("view", "add", "change"),
    "consentchange": ("view",),
    "tag": ("view", "add", "change"),
}))
role_registry.register("crm.club_managers", RoleGrant(CLUB_MANAGERS, "crm", {
    "customer": ("view",),
    "interaction": ("view",),
    "order": ("view",),
    "orderline": ("view",),
    "product": ("view",),
    "consentchange": ("view",),
    "tag": ("view",),
}))

# --- Jobs -------------------------------------------------------------------------------------
job_registry.register("crm.retention_interactions", Job(
    name="crm.retention_interactions", func=retention_interactions, schedule={"minute": "30", "hour": "3"},
    description="Retention policy: delete resolved interactions older than RETENTION_INTERACTIONS_DAYS (0: keep).",
))
job_registry.register("crm.recommendations_refresh", Job(
    name="crm.recommendations_refresh", func=recommendations_refresh, schedule={"minute": "45", "hour": "2"},
    queue="analytics",
    description="Recompute every customer's top 10 product recommendations from counted orders (crm.recommend).",
))

# --- The customer page: timeline and audit history --------------------------------------------
timeline_contribute("interaction", timeline_entries.interaction_entries, label=_("Interactions"))
timeline_contribute("order", timeline_entries.order_entries, label=_("Orders"))
timeline_contribute("consent", timeline_entries.consent_entries, label=_("Consent"))
history_source_registry.register("customer", HistorySource(
    name="customer", label=_("Customer"), rows=lambda customer: Customer.history.filter(id=customer.pk),
))

# --- The customer page: the customer's recommendations (what the card, messages and the API show) ---
panel_registry.register("crm_recommendations", picks.render_recommendations_panel)

# --- Segment rules: the customer's profile, consent, tags, lifecycle stage and order figures ---
rule_fields_register(*rule_fields.FIELDS)

# --- Privacy: the first sections of the export; crm's eraser runs last -------------------------
exporter_registry.register("customer", privacy.profile_export)
exporter_registry.register("consent_changes", privacy.consent_changes_export)
exporter_registry.register("interactions", privacy.interactions_export)
exporter_registry.register("orders", privacy.orders_export)
# Every audited change (customer, membership, coupons, returns: core.audit) and who looked at the data.
exporter_registry.register("history", audit.history_export)
exporter_registry.register("access_log", access.access_export)
eraser_registry.register("crm", privacy.crm_erase)

# --- Demo data: the customers, their orders and history, before every other app's step ----------
demo_step_registry.register("crm", demo.seed_customers)
