"""The customer club: memberships, tiers, the points ledger, earning rules, offers and coupons.

Models hold data and invariants only; every write that matters goes through
`club.services`. The ledger (`PointsTransaction`) is append-only and the cached
balances on `Membership` are kept in step with it in the same transaction; the
database refuses a negative balance whatever the code path.

A package by subdomain: membership (tiers, members, tier changes), ledger (earning rules,
points rows, pending points), referrals, offers (offers, coupons, redemptions, birthday
rewards), notices. Every model keeps its app label and its import path `club.models.X`;
the import order below is the order the models were declared in when this was one module.
"""

from club.models.membership import Membership, Tier, TierChange
from club.models.ledger import EarningRule, PendingPoints, PointsLiability, PointsTransaction
from club.models.referrals import Referral
from club.models.liability import PointsLiabilitySnapshot
from club.models.offers import BirthdayReward, Coupon, CouponRedemption, Offer
from club.models.notices import MemberNotice

__all__ = [
    "BirthdayReward", "Coupon", "CouponRedemption", "EarningRule", "MemberNotice", "Membership", "Offer",
    "PendingPoints", "PointsLiability", "PointsLiabilitySnapshot", "PointsTransaction", "Referral", "Tier", "TierChange",
]
