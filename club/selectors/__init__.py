"""The club's read side: queries and reports, one module per subdomain.

- `ledger`: what is left of each credit (FIFO), the sums the cached balances must equal, points expiring
- `tiers`: the qualifying window and value, the tier a value earns, the next tier
- `offers`: whether a member may have an offer, the offers they can redeem, their coupons, a coupon check
- `members`: a customer's membership, birthdays due, the earning rules in force
- `card`: the member card (admin panel, customer page, public card)
- `hooks`: what crm borrows (search by member number, the loyal stage, timeline entries)
- `liability`: the points liability as of a day, per tier, and its 12-month trend (`club_liability`, the admin
  report); imported from its module

Selectors import models, `club.codes` and `club.dates`, never `club.services`: the services
read through them, so the arrow inside the app points one way.
"""

from club.selectors.card import MemberCard, member_card
from club.selectors.hooks import customer_search_by_member_number, loyal_members_condition, timeline_coupons, timeline_points
from club.selectors.ledger import (
    credit_remaining,
    credits_with_remaining,
    customer_ledger,
    ledger_balance_sum,
    ledger_pending_sum,
    ledger_shortfall_sum,
    ledger_facts_load,
    ledger_rows,
    member_ledger,
    members_with_shortfall,
    points_expiring,
)
from club.selectors.members import members_due_birthday, membership_for, membership_of, rules_active
from club.selectors.offers import (
    CouponCheck,
    coupon_discount,
    coupon_validate,
    member_coupons,
    offer_is_open,
    offer_refusal,
    offers_for_member,
)
from club.selectors.tiers import tier_for_value, tier_next, tier_qualifying_value, tier_window

__all__ = [
    "CouponCheck", "MemberCard", "coupon_discount", "coupon_validate", "credit_remaining", "credits_with_remaining", "customer_search_by_member_number", "customer_ledger",
    "ledger_balance_sum",
    "ledger_pending_sum", "ledger_shortfall_sum", "loyal_members_condition", "member_card", "member_coupons", "member_ledger", "ledger_facts_load", "ledger_rows",
    "members_due_birthday", "members_with_shortfall", "membership_for", "membership_of", "offer_is_open", "offer_refusal",
    "offers_for_member", "points_expiring", "rules_active", "tier_for_value", "tier_next", "tier_qualifying_value", "tier_window",
    "timeline_coupons", "timeline_points",
]
