"""Pending points: purchase points held for CLUB_PENDING_DAYS (the return period), then released.

A held row is not spendable and does not count for tiers until the daily release turns
it into an `earn` row under the same idempotency key.
"""

from datetime import date, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from club.dates import day_end
from club.models import EarningRule, Membership, PendingPoints, PointsTransaction
from club.services.common import lock_member
from club.services.points.ledger import member_copy_locked, points_check_room, points_refresh_cached
from club.services.tiers import tiers_upgrade_qualified

Kind = PointsTransaction.Kind
Source = PointsTransaction.Source


def points_hold_pending(
    *, member: Membership, points: int, order, rule: EarningRule | None, idempotency_key: str, lines: dict
) -> PendingPoints:
    """Hold purchase points for CLUB_PENDING_DAYS; `points_release_pending` makes them spendable."""
    with transaction.atomic():
        locked = lock_member(member)
        existing = PendingPoints.objects.filter(idempotency_key=idempotency_key).first()
        if existing is not None or PointsTransaction.objects.filter(idempotency_key=idempotency_key).exists():
            return existing
        points_check_room(locked, points)
        pending = PendingPoints.objects.create(
            member=locked, order=order, rule=rule, points=points, lines=lines, idempotency_key=idempotency_key,
            available_at=timezone.now() + timedelta(days=settings.CLUB_PENDING_DAYS),
        )
        Membership.objects.filter(pk=locked.pk).update(pending_points=F("pending_points") + points)
        locked.pending_points += points
        member_copy_locked(member, locked)
        return pending


def points_release_pending(*, run_date: date, chunk_size: int = 1000) -> dict:
    """Daily job: pending points due by the end of `run_date` become `earn` rows.

    The earn row takes the pending row's idempotency key, so a rerun (or two workers at
    once) releases each once."""
    due = PendingPoints.objects.filter(status=PendingPoints.Status.PENDING, available_at__lt=day_end(run_date))
    member_ids = sorted(set(due.values_list("member_id", flat=True)))
    released = points = 0
    for start in range(0, len(member_ids), chunk_size):
        chunk = member_ids[start:start + chunk_size]
        with transaction.atomic():
            list(Membership.objects.select_for_update().filter(pk__in=chunk).order_by("pk").values_list("pk"))
            rows = list(due.filter(member_id__in=chunk).select_for_update())
            if not rows:
                continue
            now = timezone.now()
            expires_at = now + timedelta(days=settings.CLUB_POINTS_EXPIRY_DAYS)
            earned = PointsTransaction.objects.bulk_create([
                PointsTransaction(
                    member_id=row.member_id, points=row.points, kind=Kind.EARN, source=Source.ORDER, reason=row.reason,
                    rule_id=row.rule_id, order_id=row.order_id, lines=row.lines, idempotency_key=row.idempotency_key,
                    created_at=now, expires_at=expires_at,
                )
                for row in rows
            ])
            for row, transaction_row in zip(rows, earned):
                row.status = PendingPoints.Status.RELEASED
                row.released = transaction_row
            PendingPoints.objects.bulk_update(rows, ["status", "released"])
            points_refresh_cached(chunk)
            released += len(rows)
            points += sum(row.points for row in rows)
            if settings.CLUB_TIER_BASIS == "points":
                tiers_upgrade_qualified(member_ids=chunk)
    return {"released": released, "points": points, "members": len(member_ids)}


def pending_holds_locked(*, member: Membership, order):
    """The member's holds on `order` still pending, locked for the change."""
    return PendingPoints.objects.select_for_update().filter(order=order, member=member, status=PendingPoints.Status.PENDING)


def pending_reduce(*, pending: PendingPoints, member: Membership, points: int, lines_taken: dict | None = None) -> None:
    """Take `points` (and, per line, `lines_taken`) off a locked pending hold and the member's cached
    pending total; a hold left with nothing is cancelled. `member` is the locked copy."""
    for key, value in (lines_taken or {}).items():
        pending.lines[key]["quantity"] -= value["quantity"]
        pending.lines[key]["points"] -= value["points"]
    pending.points -= points
    if pending.points <= 0:
        pending.points = 0
        pending.status = PendingPoints.Status.CANCELLED
    pending.save(update_fields=["points", "lines", "status"])
    Membership.objects.filter(pk=member.pk).update(pending_points=F("pending_points") - points)
    member.pending_points -= points
