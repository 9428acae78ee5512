"""The club's write side: every change to memberships, points, tiers, offers and coupons.

Admin actions, API views, Celery tasks, commands and the apps above (feedback,
campaigns) call these functions; none re-implements them. They are keyword-only,
atomic, and raise django's ValidationError or a `club.exceptions` domain exception.

The points ledger is the package `club.services.points` (ledger, reversals, pending,
expiry, verification). Reads live in `club.selectors`, the number and code helpers in
`club.codes`, the card's signed link and QR code in `club.card`; the names below that
come from there are re-exported so that callers written as `club.services.X` keep
working. New code reads through `club.selectors`.
"""

from club.codes import coupon_code_format, coupon_code_normalize, member_number_format, member_number_normalize
from club.selectors.ledger import credit_remaining, credits_with_remaining
from club.selectors.members import members_due_birthday, rules_active
from club.selectors.offers import CouponCheck, coupon_validate, offer_refusal
from club.selectors.tiers import tier_for_value, tier_next, tier_qualifying_value
from club.services.birthdays import birthday_reward_give, birthday_rewards_run
from club.card import card_link, member_for_card_link, member_number_qr_svg
from club.services.earning import (
    points_award_birthday,
    points_award_for_event,
    points_award_for_feedback,
    points_award_for_profile,
    points_award_signup,
    referral_check,
    referral_create,
    referral_reward_for_order,
    referral_rewards_for_orders,
)
from club.services.purchases import order_points, points_award_for_orders
from club.services.liability import (
    liability_snapshot_nightly,
    liability_snapshot_request,
    liability_snapshot_store,
    liability_snapshots_fill,
)
from club.services.membership import member_enroll, member_set_status
from club.services.notifications import notice_send_once
from club.services.offers import coupon_issue, coupon_redeem, offer_redeem
from club.services.points import (
    points_adjust,
    points_award,
    points_expire_due,
    points_expire_due_at_once,
    points_hold_pending,
    points_rebuild_balances,
    points_refresh_cached,
    points_release_pending,
    points_reverse_for_order,
    points_spend,
    points_take_back_for_order_change,
    points_verify_balances,
    points_warn_expiring,
)
from club.services.tiers import tier_set, tier_upgrade_if_qualified, tiers_review

__all__ = [
    "CouponCheck", "birthday_reward_give", "birthday_rewards_run", "card_link", "coupon_code_format", "coupon_code_normalize",
    "coupon_issue", "coupon_redeem", "liability_snapshot_nightly", "liability_snapshot_request", "liability_snapshot_store", "liability_snapshots_fill", "coupon_validate", "credit_remaining", "credits_with_remaining", "member_enroll", "member_number_format",
    "member_for_card_link", "member_number_normalize", "member_number_qr_svg", "member_set_status", "members_due_birthday",
    "notice_send_once", "offer_redeem", "offer_refusal", "points_adjust", "points_award", "points_award_birthday", "points_award_for_event", "points_refresh_cached",
    "points_award_for_feedback", "points_award_for_orders", "points_award_for_profile", "points_award_signup",
    "points_expire_due", "points_expire_due_at_once", "order_points", "points_hold_pending", "points_rebuild_balances", "points_release_pending",
    "points_reverse_for_order", "points_spend", "points_take_back_for_order_change", "points_verify_balances", "points_warn_expiring", "referral_check", "referral_create",
    "referral_reward_for_order", "referral_rewards_for_orders", "rules_active", "tier_for_value", "tier_next", "tier_qualifying_value", "tier_set",
    "tier_upgrade_if_qualified", "tiers_review",
]
