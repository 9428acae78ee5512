"""The points ledger's basics: append a row, earn, adjust, spend, and keep the cached balance in step.

Every function that changes a member's points locks the membership row first
(`lock_member`), appends `PointsTransaction` rows through `points_append` and moves the
cached balance with F() in the same transaction. The idempotency key is unique in the
database, so a retried call returns the row the first call wrote instead of paying twice.
"""

from datetime import datetime, timedelta
from uuid import uuid4

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from club import signals
from club.exceptions import Conflict, InsufficientPoints
from club.models import EarningRule, Membership, PointsTransaction
from club.selectors.ledger import ledger_balance_sum, ledger_pending_sum, ledger_shortfall_sum
from club.services.common import after_commit, lock_member
from club.services.tiers import tier_upgrade_if_qualified
from core.audit import audited
from core.bounds import check_points

Kind = PointsTransaction.Kind
Source = PointsTransaction.Source


def points_award(
    *,
    member: Membership,
    points: int,
    source: str,
    idempotency_key: str,
    reason: str = "",
    rule: EarningRule | None = None,
    order=None,
    source_ref: str = "",
    lines: dict | None = None,
    at: datetime | None = None,
) -> PointsTransaction:
    """Earn points (they expire after CLUB_POINTS_EXPIRY_DAYS) and upgrade the tier at once if they qualify.

    The row stores facts (source, rule, order, source_ref); PointsTransaction.description renders its line in
    the reader's language. `reason` is for words no fact can give."""
    if points <= 0:
        raise ValidationError({"points": _("Earned points must be more than zero.")})
    with transaction.atomic():
        locked = lock_member(member)
        at = at or timezone.now()
        row, created = points_append(
            member=locked, points=points, kind=Kind.EARN, source=source, reason=reason, idempotency_key=idempotency_key,
            rule=rule, order=order, source_ref=source_ref, lines=lines or {}, created_at=at,
            expires_at=at + timedelta(days=settings.CLUB_POINTS_EXPIRY_DAYS),
        )
        if created and settings.CLUB_TIER_BASIS == "points":
            tier_upgrade_if_qualified(member=locked)
        member_copy_locked(member, locked)
        return row


@audited
def points_adjust(*, member: Membership, points: int, reason: str, by, idempotency_key: str | None = None) -> PointsTransaction:
    """A staff correction, signed; refuses to take the balance below zero."""
    reason = (reason or "").strip()
    errors = {}
    if not reason:
        errors["reason"] = _("Say why the points are adjusted.")
    if not points:
        errors["points"] = _("Enter a number of points other than zero.")
    if errors:
        raise ValidationError(errors)
    check_points(points, field="points")
    with transaction.atomic():
        locked = lock_member(member)
        if points < 0 and locked.points_balance + points < 0:
            raise ValidationError({"points": _(
                "This would take the balance below zero: the member has %(balance)s points, you can remove at most that."
            ) % {"balance": locked.points_balance}})
        row, _created = points_append(
            member=locked, points=points, kind=Kind.ADJUST, source=Source.STAFF, reason=reason,
            idempotency_key=idempotency_key or f"adjust:{uuid4().hex}", created_by=by,
        )
        member_copy_locked(member, locked)
        return row


def points_spend(
    *, member: Membership, points: int, idempotency_key: str, reason: str = "", source: str = Source.OFFER, source_ref: str = ""
) -> PointsTransaction:
    """Spend points (a redeem row). Raises InsufficientPoints (409) when the balance is short."""
    if points <= 0:
        raise ValidationError({"points": _("Spend a positive number of points.")})
    with transaction.atomic():
        locked = lock_member(member)
        if not locked.is_active:
            raise ValidationError(_("Only active members can spend points."))
        row, _created = points_append(
            member=locked, points=-points, kind=Kind.REDEEM, source=source, reason=reason,
            idempotency_key=idempotency_key, source_ref=source_ref,
        )
        member_copy_locked(member, locked)
        return row


def points_append(
    *, member: Membership, points: int, kind: str, source: str, idempotency_key: str, **fields
) -> tuple[PointsTransaction, bool]:
    """Append one ledger row for a member the caller has locked (`lock_member`) and move the cached balance.

    The one way a single row enters the ledger (earning, spending, offers, reversals).
    Returns (row, created); a key seen before returns the earlier row unchanged."""
    existing = PointsTransaction.objects.filter(idempotency_key=idempotency_key).first()
    if existing is not None:
        return points_replayed(existing, member), False
    points_check_room(member, points)
    if points < 0 and member.points_balance + points < 0:
        raise InsufficientPoints(
            _("Not enough points: the balance is %(balance)s, %(needed)s are needed.")
            % {"balance": member.points_balance, "needed": -points}
        )
    try:
        # The savepoint keeps the caller's transaction usable if another process wrote the key first.
        with transaction.atomic():
            row = PointsTransaction.objects.create(
                member=member, points=points, kind=kind, source=source, idempotency_key=idempotency_key, **fields
            )
    except IntegrityError:
        existing = PointsTransaction.objects.filter(idempotency_key=idempotency_key).first()
        if existing is None:
            raise
        return points_replayed(existing, member), False
    if points:
        changed = Membership.objects.filter(pk=member.pk, points_balance__gte=-points).update(
            points_balance=F("points_balance") + points
        )
        if not changed:  # only possible if the caller did not hold the lock
            raise InsufficientPoints(_("Not enough points."))
        member.points_balance += points
    after_commit(signals.points_changed.send, sender=PointsTransaction, transactions=[row])
    return row, True


def points_check_room(member: Membership, points: int) -> None:
    """Refuse, before any write, a points figure or a resulting balance beyond a 64-bit column
    (core.bounds): a generous rule times a Rial-sized order can get there, and the database
    would answer with an overflow instead of a reason. Pending points count as if released,
    so that the daily release can never overflow a balance either."""
    check_points(points, field="points")
    if points > 0:
        check_points(member.points_balance + member.pending_points + points, field="points_balance")


def points_replayed(existing: PointsTransaction, member: Membership) -> PointsTransaction:
    """The row an earlier call wrote under the same idempotency key, when it is this member's.

    A key reused for another member is a caller's mistake, never a replay: Conflict (409)."""
    if existing.member_id != member.pk:
        raise Conflict(_("This idempotency key was already used for another member."), code="idempotency_key_reused")
    return existing


def member_copy_locked(member: Membership, locked: Membership) -> None:
    """Let the caller's instance show the new cached figures of the locked copy the service worked on."""
    if member is not locked and isinstance(member, Membership):
        for field in ("points_balance", "pending_points", "points_shortfall", "tier_id", "below_tier_since", "tier_frozen_until"):
            setattr(member, field, getattr(locked, field))
        if member.tier_id == locked.tier_id:
            member.tier = locked.tier


def points_refresh_cached(member_ids) -> int:
    """Set these members' cached balance, pending points and shortfall from the ledger, in one UPDATE.

    The bulk jobs (release, expiry, rebuild) write many rows at once and resync with this
    instead of moving each balance by hand; the caller holds the members' locks."""
    return Membership.objects.filter(pk__in=member_ids).update(
        points_balance=ledger_balance_sum(), pending_points=ledger_pending_sum(), points_shortfall=ledger_shortfall_sum()
    )
