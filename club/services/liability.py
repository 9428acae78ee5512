"""The nightly snapshot of the club's points liability (club.models.PointsLiabilitySnapshot).

The report (club.selectors.liability) reads the whole ledger; the admin page reads what this stored
instead: yesterday's end, written by the `club.liability_snapshot` job shortly after midnight, and each of
the last 12 month ends, computed once from the ledger when missing. A club manager can recompute today's
from the page; `club_liability --as-of DAY --store` writes any day. Re-running a day replaces its rows.
"""

import logging
from datetime import date, timedelta

from django.db import transaction
from django.utils import timezone

from club.models import PointsLiabilitySnapshot
from club.selectors.liability import Liability, LiabilityFigures, club_liability, month_ends
from core.audit import audited, is_user

log = logging.getLogger(__name__)


@audited
def liability_snapshot_store(*, day: date, by=None) -> Liability:
    """Compute the liability as of the end of `day` from the ledger and store it (a row per tier, one for members
    without a tier when there are any, one for every member), replacing what was stored for that day."""
    liability = club_liability(as_of=day)
    now = timezone.now()
    actor = by if is_user(by) else None

    def row(figures: LiabilityFigures, **where) -> PointsLiabilitySnapshot:
        return PointsLiabilitySnapshot(
            day=day, **where, outstanding_points=figures.outstanding_points, pending_points=figures.pending_points,
            expiring_30d=figures.expiring_30d, expiring_60d=figures.expiring_60d, expiring_90d=figures.expiring_90d,
            earned_points=figures.earned_points, redeemed_points=figures.redeemed_points,
            expired_points=figures.expired_points, point_value=figures.point_value,
            liability_value=figures.liability_value, redemption_rate=figures.redemption_rate,
            breakage_rate=figures.breakage_rate, computed_at=now, computed_by=actor,
        )

    rows = [row(liability.total, tier=None, total=True)]
    rows += [row(part.figures, tier=part.tier, total=False) for part in liability.tiers]
    with transaction.atomic():
        PointsLiabilitySnapshot.objects.filter(day=day).delete()
        PointsLiabilitySnapshot.objects.bulk_create(rows)
    return liability


def liability_snapshot_request(*, day: date, by) -> bool:
    """Queue the store of `day`'s snapshot on the analytics queue (a club of millions takes longer than a page
    request should); True when queued. With the broker down, it is stored here and now instead (False)."""
    from club.tasks import liability_snapshot_store as task  # here: the task module imports this one

    if task.delay_or_log(day.isoformat(), by.pk if is_user(by) else None,
                         fallback=f"the points liability snapshot of {day} is stored in the request"):
        return True
    liability_snapshot_store(day=day, by=by)  # the page still gets its figures, slowly
    return False


def liability_snapshots_fill(*, as_of: date, by=None) -> list[date]:
    """Store the month ends of the trend up to `as_of` (club.selectors.liability.month_ends) that have no snapshot
    yet, each once; the days it computed."""
    wanted = month_ends(as_of)[:-1]
    stored = set(PointsLiabilitySnapshot.objects.filter(day__in=wanted, total=True).values_list("day", flat=True))
    missing = [day for day in wanted if day not in stored]
    for day in missing:
        liability_snapshot_store(day=day, by=by)
    return missing


def liability_snapshot_nightly(*, run_date: date) -> dict:
    """The job: the liability at the end of the day before `run_date`, then any missing month end."""
    day = run_date - timedelta(days=1)
    liability = liability_snapshot_store(day=day)
    filled = liability_snapshots_fill(as_of=day)
    return {"day": day.isoformat(), "outstanding_points": liability.total.outstanding_points,
            "month_ends_filled": [value.isoformat() for value in filled]}
