"""Verification: checking the cached balances against the ledger, and rebuilding them from it.

The ledger is the truth; `Membership.points_balance`, `pending_points` and
`points_shortfall` are caches moved in the same transaction as each row. These find and
repair any member whose cache disagrees (`manage.py club_balances`).
"""

from django.db import transaction
from django.db.models import F, Q

from club.models import Membership
from club.selectors.ledger import ledger_balance_sum, ledger_pending_sum, ledger_shortfall_sum
from club.services.points.ledger import points_refresh_cached


def points_verify_balances():
    """Memberships whose cached figures disagree with the ledger (a QuerySet, empty when all is well)."""
    return (
        Membership.objects.annotate(
            ledger_balance=ledger_balance_sum(), ledger_pending=ledger_pending_sum(), ledger_shortfall=ledger_shortfall_sum()
        )
        .filter(~Q(points_balance=F("ledger_balance")) | ~Q(pending_points=F("ledger_pending"))
                | ~Q(points_shortfall=F("ledger_shortfall")))
        .order_by("pk")
    )


@transaction.atomic
def points_rebuild_balances(*, member_ids=None) -> int:
    """Set every cached figure from the ledger, as one UPDATE. Returns how many were wrong."""
    wrong = points_verify_balances()
    if member_ids is not None:
        wrong = wrong.filter(pk__in=list(member_ids))
    ids = list(wrong.values_list("pk", flat=True))
    if ids:
        list(Membership.objects.select_for_update().filter(pk__in=ids).order_by("pk").values_list("pk"))
        points_refresh_cached(ids)
    return len(ids)
