"""Everything the club contributes to the platform's registries (core), in one place.

Discovered by core (core.registry.contributions_discover) like admin.py; it only declares.
"""

from django.utils.translation import gettext_lazy as _

from club import demo, jobs, rule_fields, selectors
from club import privacy as club_privacy
from club.models import Coupon, Membership
from club.card import customer_card_links
from club.templatetags.club_tags import render_member_card_panel
from core.audit import HistorySource, history_source_registry
from core.customers import loyalty_condition_registry, search_extension_registry
from core.demo import demo_step_registry, seed_step
from core.jobs import Job, job_registry
from core.links import customer_link_registry
from core.panels import panel_registry
from core.privacy import eraser_registry, exporter_registry
from core.roles import CLUB_MANAGERS, MARKETING, SUPPORT, RoleGrant, role_registry
from core.rule_fields import rule_fields_register
from core.timeline import timeline_contribute

READ_ONLY = ("view",)
EDIT = ("view", "add", "change", "delete")


# --- Roles ------------------------------------------------------------------------------------
role_registry.register("club.club_managers", RoleGrant(CLUB_MANAGERS, "club", {
    "tier": EDIT,
    "earningrule": EDIT,
    "offer": EDIT,
    "coupon": ("view", "add", "change"),
    "couponredemption": READ_ONLY,
    "membership": ("view", "add", "change", "adjust_points", "override_tier"),
    "pointstransaction": READ_ONLY,
    "pendingpoints": READ_ONLY,
    "tierchange": READ_ONLY,
    "referral": ("view", "add"),
    "birthdayreward": READ_ONLY,
    "membernotice": READ_ONLY,
    "pointsliability": ("view", "recompute_liability"),  # the liability report (club.admin_liability)
}))
# Support answers members' questions and enrols them; reads the rest.
role_registry.register("club.support", RoleGrant(SUPPORT, "club", {
    "membership": ("view", "add"),
    "coupon": READ_ONLY,
    "couponredemption": READ_ONLY,
    "pointstransaction": READ_ONLY,
    "pendingpoints": READ_ONLY,
    "tierchange": READ_ONLY,
    "tier": READ_ONLY,
    "offer": READ_ONLY,
    "referral": READ_ONLY,
    "birthdayreward": READ_ONLY,
}))
# Marketing plans campaigns around the club: reads everything, changes nothing, adjusts no points.
role_registry.register("club.marketing", RoleGrant(MARKETING, "club", {
    model: READ_ONLY for model in (
        "membership", "tier", "earningrule", "offer", "coupon", "couponredemption", "pointstransaction",
        "pendingpoints", "tierchange", "referral", "birthdayreward",
    )
}))

# --- Jobs -------------------------------------------------------------------------------------
for job in (
    Job(name="club.birthdays", func=jobs.birthdays, schedule={"minute": "5", "hour": "6"},
        description="Birthday coupons and bonus points for members whose birthday it is (once a year each)."),
    Job(name="club.points_expiry", func=jobs.points_expiry, schedule={"minute": "15", "hour": "2"},
        description="Expire what is left of earnings past their expiry (FIFO) and warn members before it happens."),
    Job(name="club.points_pending_release", func=jobs.points_pending_release, schedule={"minute": "30", "hour": "2"},
        description="Make pending purchase points spendable once their holding period is over."),
    Job(name="club.tier_review", func=jobs.tier_review, schedule={"minute": "45", "hour": "2"},
        description="Review every member's tier: upgrades, and downgrades after the grace period."),
    Job(name="club.liability_snapshot", func=jobs.liability_snapshot, schedule={"minute": "20", "hour": "0"},
        queue="analytics",
        description="Store the points liability at the end of yesterday (and any missing month end) for the admin page."),
):
    job_registry.register(job.name, job)

# --- The customer: timeline, search, lifecycle, admin page, audit history ---------------------------
timeline_contribute("points", selectors.timeline_points, label=_("Points"))
timeline_contribute("coupon", selectors.timeline_coupons, label=_("Coupons"))
search_extension_registry.register("club.member_number", selectors.customer_search_by_member_number)
loyalty_condition_registry.register("club.top_tiers", selectors.loyal_members_condition)
panel_registry.register("club_member_card", render_member_card_panel)
customer_link_registry.register("club.card", customer_card_links)
# The membership's and coupons' audited changes. Their historical rows hold nothing personal (numbers,
# codes, states, amounts): erasure leaves them. Points adjustments need no copy: the append-only ledger
# is their history (created_by, reason).
history_source_registry.register("membership", HistorySource(
    name="membership", label=_("Membership"), rows=lambda customer: Membership.history.filter(customer_id=customer.pk),
    title="member_number", hidden=("customer",),
))
history_source_registry.register("coupon", HistorySource(
    name="coupon", label=_("Coupon"), rows=lambda customer: Coupon.history.filter(member__customer_id=customer.pk),
    title="code", hidden=("member", "points_transaction"),
))

# --- Segment rules: membership, tier, points, days since joining ------------------------------
rule_fields_register(*rule_fields.FIELDS)

# --- Privacy (issue 8): membership, ledger and coupons in the export; erasure of free text ------------
exporter_registry.register("club", club_privacy.export_club)
eraser_registry.register("club", club_privacy.erase_club)

# --- Demo data --------------------------------------------------------------------------------
demo_step_registry.register("club", seed_step(demo.seed))
