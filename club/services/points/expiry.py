"""Expiry of points: the daily FIFO expiry, and the warning before points expire.

Each earning expires CLUB_POINTS_EXPIRY_DAYS after it was earned; what is left of it
then (FIFO, see `club.selectors.ledger.credits_with_remaining`) becomes an `expire` row
keyed by the earning, so a rerun of the job expires nothing twice.
"""

from datetime import date, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from club.dates import day_end, day_start
from club.models import Membership, PointsTransaction
from club.selectors.ledger import credit_remaining, credits_with_remaining
from club.services.notifications import notice_send_once
from club.services.points.ledger import points_refresh_cached

Kind = PointsTransaction.Kind
Source = PointsTransaction.Source


def points_expire_due(*, run_date: date, chunk_size: int = 1000) -> dict:
    """Daily job: write an `expire` row for what is left of each earning whose expiry was
    before the start of `run_date` (local time). Keyed by the earning, so a rerun does nothing."""
    cutoff = day_start(run_date)
    already = PointsTransaction.objects.filter(original=OuterRef("pk"), kind=Kind.EXPIRE)
    candidates = (
        PointsTransaction.objects.filter(points__gt=0, expires_at__lte=cutoff, member__points_balance__gt=0)
        .filter(~Exists(already)).order_by().values_list("member_id", flat=True).distinct()
    )
    member_ids = sorted(candidates)
    expired_rows = expired_points = 0
    for start in range(0, len(member_ids), chunk_size):
        chunk = member_ids[start:start + chunk_size]
        with transaction.atomic():
            list(Membership.objects.select_for_update().filter(pk__in=chunk).order_by("pk").values_list("pk"))
            now = timezone.now()
            rows = []
            for credit in credits_with_remaining(chunk).filter(expires_at__lte=cutoff).order_by():
                left = credit_remaining(credit)
                if left > 0:
                    rows.append(PointsTransaction(
                        member_id=credit.member_id, points=-left, kind=Kind.EXPIRE, source=Source.SYSTEM, original_id=credit.pk,
                        idempotency_key=f"expire:{credit.pk}", created_at=now,
                    ))
            PointsTransaction.objects.bulk_create(rows)
            points_refresh_cached(chunk)
            expired_rows += len(rows)
            expired_points += -sum(row.points for row in rows)
    return {"members": len(member_ids), "rows": expired_rows, "points": expired_points}


def points_warn_expiring(*, run_date: date) -> dict:
    """Daily job: tell members whose points expire within CLUB_EXPIRY_WARNING_DAYS, once per earning."""
    days = settings.CLUB_EXPIRY_WARNING_DAYS
    if not days:
        return {"members": 0}
    start, end = day_start(run_date), day_end(run_date + timedelta(days=days))
    member_ids = sorted(set(
        PointsTransaction.objects.filter(points__gt=0, expires_at__gte=start, expires_at__lt=end, member__points_balance__gt=0,
                                         member__status=Membership.Status.ACTIVE)
        .values_list("member_id", flat=True)
    ))
    warned = 0
    for start_index in range(0, len(member_ids), 1000):
        chunk = member_ids[start_index:start_index + 1000]
        by_member: dict[int, list] = {}
        for credit in credits_with_remaining(chunk).filter(expires_at__gte=start, expires_at__lt=end).order_by():
            left = credit_remaining(credit)
            if left > 0:
                by_member.setdefault(credit.member_id, []).append((credit, left))
        for member_id, credits in by_member.items():
            first = min(credit.expires_at for credit, _left in credits)
            sent = notice_send_once(
                member_id=member_id, kind="points_expiring", keys=[f"credit:{credit.pk}" for credit, _left in credits],
                context={"points": sum(left for _credit, left in credits), "expires_on": timezone.localdate(first).isoformat()},
            )
            warned += bool(sent)
    return {"members": warned}
