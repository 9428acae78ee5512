"""Everything feedback contributes to the platform's registries (core), in one place.

Discovered by core (core.registry.contributions_discover) like admin.py; it only declares.
"""

from django.utils.translation import gettext_lazy as _

from core.audit import HistorySource, history_source_registry
from core.demo import demo_step_registry, seed_step
from core.jobs import Job, job_registry
from core.links import customer_link_registry, order_link_registry
from core.privacy import eraser_registry, exporter_registry
from core.roles import CLUB_MANAGERS, MARKETING, SUPPORT, RoleGrant, role_registry
from core.rule_fields import rule_fields_register
from core.timeline import timeline_contribute
from feedback import demo, jobs, links, rule_fields, timeline
from feedback import privacy as feedback_privacy
from feedback.models import ReturnRequest


# --- Roles ------------------------------------------------------------------------------------
role_registry.register("feedback.support", RoleGrant(SUPPORT, "feedback", {
    "survey": ("view",), "question": ("view",), "choice": ("view",),
    "invitation": ("view", "add"), "response": ("view",), "answer": ("view",),
    "returnrequest": ("view", "process_return"), "returnline": ("view",), "returnevent": ("view",),
}))
role_registry.register("feedback.marketing", RoleGrant(MARKETING, "feedback", {
    "survey": ("view", "add", "change"), "question": ("view", "add", "change", "delete"),
    "choice": ("view", "add", "change", "delete"), "invitation": ("view", "add"), "response": ("view",),
    "answer": ("view",), "returnrequest": ("view",), "returnline": ("view",), "returnevent": ("view",),
}))
role_registry.register("feedback.club_managers", RoleGrant(CLUB_MANAGERS, "feedback", {
    "survey": ("view",), "response": ("view",), "answer": ("view",), "returnrequest": ("view",),
    "returnline": ("view",),
}))

# --- Jobs -------------------------------------------------------------------------------------
job_registry.register("feedback.post_purchase_invitations", Job(
    name="feedback.post_purchase_invitations", func=jobs.post_purchase_invitations,
    schedule={"minute": "0", "hour": "10"},
    description="Invite customers to the surveys sent N days after an order is fulfilled (once per cooldown).",
))

# --- The customer: timeline and audit history -------------------------------------------------
timeline_contribute("return", timeline.return_entries, label=_("Returns"))
timeline_contribute("feedback_response", timeline.response_entries, label=_("Survey answers"))
timeline_contribute("feedback_invitation", timeline.invitation_entries, label=_("Survey invitations"))
history_source_registry.register("return_request", HistorySource(
    name="return_request", label=_("Return request"),
    rows=lambda customer: ReturnRequest.history.filter(customer_id=customer.pk), hidden=("customer",),
))

# --- The customer's links on the staff's customer and order pages, with a copy button -------------
customer_link_registry.register("feedback.return_and_survey", links.customer_links)
order_link_registry.register("feedback.return", links.order_links)

# --- Segment rules: the latest NPS and CSAT answers, an open return ----------------------------
rule_fields_register(*rule_fields.FIELDS)

# --- Privacy (issue 8): invitations, responses and returns in the export; erasure of free text ------
exporter_registry.register("feedback", feedback_privacy.export_feedback)
eraser_registry.register("feedback", feedback_privacy.erase_feedback)

# --- Demo data --------------------------------------------------------------------------------
demo_step_registry.register("feedback", seed_step(demo.seed))
