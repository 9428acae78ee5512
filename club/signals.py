"""Events the club sends for the apps above it (campaigns, the API's webhooks).

All but the two batch events (points_earned, tiers_changed) are sent after the transaction that caused
them commits (`transaction.on_commit`), so a receiver that sends an email or SMS never announces something
that rolled back; the batch events are sent inside it, for the webhooks' transactional outbox.
"""

from django.dispatch import Signal

# sender=Membership, member=<Membership>, kind="welcome"|"birthday"|"points_expiring", context=dict
# The club records a MemberNotice row per (member, kind, key) first, so each is sent once;
# receivers check the customer's consent for the channel they use.
member_notification = Signal()
# sender=PointsTransaction, transactions=[<PointsTransaction>, ...]: a change of a member's points (a list of one)
points_changed = Signal()
# sender=PointsTransaction, rows=[(ledger row id, public id, customer id), ...], transactions=[<PointsTransaction>, ...]
# | None: the ledger rows a batch of orders earned, 1,000 at a time. `transactions`, when the sender holds them, are
# the same rows as written, with the facts their description reads (order with its number and public id, rule) and
# their member with its customer's public id, so a receiver need not read them again; a row not among them is known
# by its id only. Sent INSIDE the batch's transaction, as crm's orders_created: a receiver that writes (the
# webhooks' outbox) commits with the points; one that talks to the outside world must wait for the commit.
points_earned = Signal()
# sender=Membership, changes=[<TierChange>, ...] (member, from_tier, to_tier, reason): one manual change
tier_changed = Signal()
# sender=Membership, change_ids=[...]: tier changes made together (the upgrades a batch of orders brought, a
# chunk of the periodic review), by id, 1,000 at a time; sent inside their transaction, as points_earned
tiers_changed = Signal()
# sender=Coupon, coupon=<Coupon>
coupon_issued = Signal()
# sender=Coupon, coupon=<Coupon>, redemption=<CouponRedemption>
coupon_redeemed = Signal()
