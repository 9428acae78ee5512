"""The points ledger, one module per subdomain:

- `ledger`: append a row, earn, adjust, spend, keep the cached balance in step
- `reversals`: take back an order's points, whole or by lines
- `refunds`: what a refund or a cancellation takes back (every road that refunds comes here)
- `pending`: hold purchase points for the return period, then release them
- `expiry`: the daily FIFO expiry and the warning before points expire
- `verification`: check the cached balances against the ledger and rebuild them

The reads these use (what is left of each credit, the ledger sums) are in `club.selectors.ledger`.
"""

from club.services.points.expiry import points_expire_due, points_expire_due_at_once, points_warn_expiring
from club.services.points.ledger import (
    member_copy_locked,
    points_adjust,
    points_append,
    points_award,
    points_check_room,
    points_refresh_cached,
    points_replayed,
    points_spend,
)
from club.services.points.pending import points_hold_pending, points_release_pending
from club.services.points.refunds import points_take_back_for_order_change
from club.services.points.reversals import points_reverse_for_order
from club.services.points.verification import points_rebuild_balances, points_verify_balances

__all__ = [
    "member_copy_locked", "points_adjust", "points_append", "points_award", "points_check_room", "points_expire_due",
    "points_expire_due_at_once", "points_hold_pending",
    "points_rebuild_balances", "points_refresh_cached", "points_release_pending", "points_replayed", "points_reverse_for_order",
    "points_spend", "points_take_back_for_order_change", "points_verify_balances", "points_warn_expiring",
]
