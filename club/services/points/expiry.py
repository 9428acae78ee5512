"""Expiry of points: the daily FIFO expiry, and the warning before points expire.

Each earning expires CLUB_POINTS_EXPIRY_DAYS after it was earned; what is left of it
then (FIFO, see `club.selectors.ledger.credits_with_remaining`) becomes an `expire` row
keyed by the earning, so a rerun of the job expires nothing twice.
"""

from datetime import date, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from club.dates import day_end, day_start
from club.models import Membership, PointsTransaction
from club.selectors.ledger import credit_remaining, credits_with_remaining
from club.services.notifications import notice_send_once
from club.services.points.ledger import points_refresh_cached
from core.audit import SOURCE_MAX_LENGTH, current_source

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


def points_expire_due_at_once(*, run_date: date) -> dict:
    """`points_expire_due` for a bulk load nobody else writes to (the demo data): the same `expire` rows,
    written by one INSERT ... SELECT over the whole ledger (the same FIFO query, `credits_with_remaining`),
    then the cached figures of the members who lost points in one UPDATE. Takes no member locks, so it
    is not the nightly job. On databases other than PostgreSQL it is the job itself."""
    if connection.vendor != "postgresql":
        return points_expire_due(run_date=run_date)
    cutoff = day_start(run_date)
    now = timezone.now()
    credits = (
        credits_with_remaining().filter(expires_at__lte=cutoff, member__points_balance__gt=0).order_by()
        .values("id", "member_id", "net", "running", "consumed")
    )
    select, params = credits.query.sql_with_params()
    table = PointsTransaction._meta.db_table
    # The table name comes from the model's meta; the values are parameters.
    statement = f"""
        WITH written AS (
            INSERT INTO {table} (public_id, member_id, points, kind, source, reason, source_ref, original_id, lines,
                                 shortfall, idempotency_key, audit_source, created_at)
            SELECT gen_random_uuid(), member_id, -remaining, %s, %s, '', '', id, '{{}}'::jsonb, 0, 'expire:' || id, %s, %s
            FROM (SELECT credit.id, credit.member_id,
                         GREATEST(0, LEAST(credit.running - credit.consumed, credit.net)) AS remaining
                  FROM ({select}) AS credit) AS due
            WHERE remaining > 0
            RETURNING member_id, points
        )
        SELECT COUNT(DISTINCT member_id), COUNT(*), COALESCE(-SUM(points), 0) FROM written"""  # nosec B608
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement, [Kind.EXPIRE.value, Source.SYSTEM.value, current_source()[:SOURCE_MAX_LENGTH], now,
                                   *params])
        members, rows, points = cursor.fetchone()
        if rows:
            points_refresh_cached(
                PointsTransaction.objects.filter(kind=Kind.EXPIRE, created_at=now).values("member_id")
            )
    return {"members": members, "rows": rows, "points": int(points)}


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
