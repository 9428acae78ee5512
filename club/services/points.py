"""The points ledger: append rows, keep the cached balance in step, reverse, expire, release.

Every function that changes a member's points locks the membership row first
(`lock_member`), appends `PointsTransaction` rows and moves the cached balance with
F() in the same transaction. The idempotency key is unique in the database, so a
retried call returns the row the first call wrote instead of paying twice.
"""

from datetime import date, datetime, timedelta
from uuid import uuid4

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, IntegerField, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from club import signals
from club.exceptions import Conflict, InsufficientPoints
from club.models import EarningRule, Membership, PendingPoints, PointsTransaction
from club.services.common import after_commit, day_end, day_start, lock_member

Kind = PointsTransaction.Kind
Source = PointsTransaction.Source


def points_award(
    *,
    member: Membership,
    points: int,
    source: str,
    reason: str,
    idempotency_key: str,
    rule: EarningRule | None = None,
    order=None,
    source_ref: str = "",
    lines: dict | None = None,
    at: datetime | None = None,
) -> PointsTransaction:
    """Earn points (they expire after CLUB_POINTS_EXPIRY_DAYS) and upgrade the tier at once if they qualify."""
    from club.services.tiers import tier_upgrade_if_qualified

    if points <= 0:
        raise ValidationError({"points": _("Earned points must be more than zero.")})
    with transaction.atomic():
        locked = lock_member(member)
        at = at or timezone.now()
        row, created = _append(
            member=locked, points=points, kind=Kind.EARN, source=source, reason=reason, idempotency_key=idempotency_key,
            rule=rule, order=order, source_ref=source_ref, lines=lines or {}, created_at=at,
            expires_at=at + timedelta(days=settings.CLUB_POINTS_EXPIRY_DAYS),
        )
        if created and settings.CLUB_TIER_BASIS == "points":
            tier_upgrade_if_qualified(member=locked)
        _sync_instance(member, locked)
        return row


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
    with transaction.atomic():
        locked = lock_member(member)
        if points < 0 and locked.points_balance + points < 0:
            raise ValidationError({"points": _(
                "This would take the balance below zero: the member has %(balance)s points, you can remove at most that."
            ) % {"balance": locked.points_balance}})
        row, _created = _append(
            member=locked, points=points, kind=Kind.ADJUST, source=Source.STAFF, reason=reason,
            idempotency_key=idempotency_key or f"adjust:{uuid4().hex}", created_by=by,
        )
        _sync_instance(member, locked)
        return row


def points_spend(
    *, member: Membership, points: int, reason: str, idempotency_key: str, source: str = Source.OFFER, source_ref: str = ""
) -> PointsTransaction:
    """Spend points (a redeem row). Raises InsufficientPoints (409) when the balance is short."""
    if points <= 0:
        raise ValidationError({"points": _("Spend a positive number of points.")})
    with transaction.atomic():
        locked = lock_member(member)
        if not locked.is_active:
            raise ValidationError(_("Only active members can spend points."))
        row, _created = _append(
            member=locked, points=-points, kind=Kind.REDEEM, source=source, reason=reason,
            idempotency_key=idempotency_key, source_ref=source_ref,
        )
        _sync_instance(member, locked)
        return row


def _append(*, member: Membership, points: int, kind: str, source: str, idempotency_key: str, **fields) -> tuple[PointsTransaction, bool]:
    """Append one ledger row for a locked member and move the cached balance.

    Returns (row, created); a key seen before returns the earlier row unchanged."""
    existing = PointsTransaction.objects.filter(idempotency_key=idempotency_key).first()
    if existing is not None:
        return _replayed(existing, member), False
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
        return _replayed(existing, member), False
    if points:
        changed = Membership.objects.filter(pk=member.pk, points_balance__gte=-points).update(
            points_balance=F("points_balance") + points
        )
        if not changed:  # only possible if the caller did not hold the lock
            raise InsufficientPoints(_("Not enough points."))
        member.points_balance += points
    after_commit(signals.points_changed.send, sender=PointsTransaction, transaction=row)
    return row, True


def _replayed(existing: PointsTransaction, member: Membership) -> PointsTransaction:
    if existing.member_id != member.pk:
        raise Conflict(_("This idempotency key was already used for another member."), code="idempotency_key_reused")
    return existing


def _sync_instance(member: Membership, locked: Membership) -> None:
    """Let the caller's instance show the new cached figures."""
    if member is not locked and isinstance(member, Membership):
        for field in ("points_balance", "pending_points", "points_shortfall", "tier_id", "below_tier_since", "tier_frozen_until"):
            setattr(member, field, getattr(locked, field))
        if member.tier_id == locked.tier_id:
            member.tier = locked.tier


# --- Reversals (returns and cancellations) -------------------------------------------------


@transaction.atomic
def points_reverse_for_order(
    *, order, lines: dict[int, int] | None = None, by=None, idempotency_key: str | None = None
) -> list[PointsTransaction]:
    """Take back the points an order earned: all that is left of them (lines=None, a
    cancellation or full refund), or those of the given {order_line_id: quantity}.

    Quantities beyond what is left to reverse are capped, so calling this after the order
    was already fully reversed does nothing. Points the member has already spent cannot
    be taken (the balance never goes negative): the rest is recorded as a shortfall on the
    reverse row and on the membership, where club managers see it. Pending points of the
    order are reduced first."""
    membership = Membership.objects.filter(customer_id=order.customer_id).first()
    if membership is None:
        return []
    wanted = _validated_lines(order, lines)
    member = lock_member(membership)
    _reverse_pending(member, order, wanted)
    rows = []
    earnings = PointsTransaction.objects.filter(member=member, order=order, kind=Kind.EARN, source=Source.ORDER).order_by("id")
    for earning in earnings:
        remaining_lines, remaining_points = _left_to_reverse(earning)
        taken_lines, to_reverse = _take(remaining_lines, remaining_points, wanted)
        to_reverse = min(to_reverse, max(remaining_points, 0))  # never more than is left of the earning
        if to_reverse <= 0:
            continue
        take = min(to_reverse, member.points_balance)
        shortfall = to_reverse - take
        if wanted is None:
            key = f"reverse:{earning.pk}:all"
        elif idempotency_key:
            key = f"reverse:{earning.pk}:{idempotency_key}"
        else:
            key = f"reverse:{earning.pk}:{uuid4().hex}"
        row, created = _append(
            member=member, points=-take, kind=Kind.REVERSE, source=Source.ORDER, idempotency_key=key,
            reason=_("Reversal for order %(number)s") % {"number": order.order_number}, order=order, original=earning,
            lines=taken_lines, shortfall=shortfall, created_by=by,
        )
        if created and shortfall:
            Membership.objects.filter(pk=member.pk).update(points_shortfall=F("points_shortfall") + shortfall)
            member.points_shortfall += shortfall
        rows.append(row)
    _sync_instance(membership, member)
    return rows


def _validated_lines(order, lines: dict[int, int] | None) -> dict[str, int] | None:
    if lines is None:
        return None
    known = set(order.lines.values_list("pk", flat=True))
    errors = {}
    wanted = {}
    for line_id, quantity in lines.items():
        if int(line_id) not in known:
            errors[f"lines.{line_id}"] = _("Order line %(id)s is not a line of order %(number)s.") % {
                "id": line_id, "number": order.order_number}
        elif int(quantity) < 1:
            errors[f"lines.{line_id}"] = _("Quantity must be at least 1.")
        else:
            wanted[str(int(line_id))] = int(quantity)
    if errors:
        raise ValidationError(errors)
    return wanted


def _left_to_reverse(earning: PointsTransaction) -> tuple[dict, int]:
    """What of an earning is still there to reverse: per line, and in total."""
    lines = {key: dict(value) for key, value in earning.lines.items()}
    points = earning.points
    for followup in earning.followups.filter(kind__in=[Kind.REVERSE, Kind.EXPIRE]):
        if followup.kind == Kind.EXPIRE:  # expired points are gone: there is nothing of them to take back
            points += followup.points
            continue
        reverse = followup
        points -= -reverse.points + reverse.shortfall
        for key, value in reverse.lines.items():
            if key in lines:
                lines[key]["quantity"] -= value["quantity"]
                lines[key]["points"] -= value["points"]
    return lines, points


def _take(remaining_lines: dict, remaining_points: int, wanted: dict[str, int] | None) -> tuple[dict, int]:
    """The lines and points to reverse now, proportional to the quantities returned."""
    if wanted is None:
        taken = {key: value for key, value in remaining_lines.items() if value["quantity"] > 0}
        return taken, max(remaining_points, 0)
    taken = {}
    for key, quantity in wanted.items():
        line = remaining_lines.get(key)
        if not line or line["quantity"] <= 0:
            continue
        quantity = min(quantity, line["quantity"])
        # The last unit takes what is left, so rounding never leaves points behind.
        points = line["points"] if quantity == line["quantity"] else line["points"] * quantity // line["quantity"]
        taken[key] = {"quantity": quantity, "points": points}
    return taken, sum(value["points"] for value in taken.values())


def _reverse_pending(member: Membership, order, wanted: dict[str, int] | None) -> None:
    for pending in PendingPoints.objects.select_for_update().filter(order=order, member=member, status=PendingPoints.Status.PENDING):
        taken, points = _take(pending.lines, pending.points, wanted)
        if not points:
            continue
        for key, value in taken.items():
            pending.lines[key]["quantity"] -= value["quantity"]
            pending.lines[key]["points"] -= value["points"]
        pending.points -= points
        if pending.points <= 0:
            pending.points = 0
            pending.status = PendingPoints.Status.CANCELLED
        pending.save(update_fields=["points", "lines", "status"])
        Membership.objects.filter(pk=member.pk).update(pending_points=F("pending_points") - points)
        member.pending_points -= points


# --- Pending points ------------------------------------------------------------------------


def points_hold_pending(
    *, member: Membership, points: int, order, rule: EarningRule | None, reason: str, idempotency_key: str, lines: dict
) -> PendingPoints:
    """Hold purchase points for CLUB_PENDING_DAYS; `points_release_pending` makes them spendable."""
    with transaction.atomic():
        locked = lock_member(member)
        existing = PendingPoints.objects.filter(idempotency_key=idempotency_key).first()
        if existing is not None or PointsTransaction.objects.filter(idempotency_key=idempotency_key).exists():
            return existing
        pending = PendingPoints.objects.create(
            member=locked, order=order, rule=rule, points=points, lines=lines, reason=reason, idempotency_key=idempotency_key,
            available_at=timezone.now() + timedelta(days=settings.CLUB_PENDING_DAYS),
        )
        Membership.objects.filter(pk=locked.pk).update(pending_points=F("pending_points") + points)
        locked.pending_points += points
        _sync_instance(member, locked)
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
                from club.services.tiers import tiers_upgrade_qualified

                tiers_upgrade_qualified(member_ids=chunk)
    return {"released": released, "points": points, "members": len(member_ids)}


# --- Expiry (FIFO) -------------------------------------------------------------------------


def credits_with_remaining(member_ids=None):
    """Each positive ledger row (an earning or a positive adjustment) with what is left of it.

    FIFO: redemptions and negative adjustments consume the earliest-expiring credits first;
    a reversal or an expiry takes from the credit it names. So for credit i, in expiry
    order, remaining_i = clamp(running_net_i - consumed, 0, net_i), where net_i is the credit
    less what was reversed or expired from it, and `consumed` is the member's unattached
    debits. The remainders add up to the balance. One query with a window function."""
    own = (
        PointsTransaction.objects.filter(original=OuterRef("pk"), kind__in=[Kind.REVERSE, Kind.EXPIRE])
        .order_by().values("original").annotate(total=Sum("points")).values("total")
    )
    floating = (
        PointsTransaction.objects.filter(member=OuterRef("member"), points__lt=0, original__isnull=True)
        .order_by().values("member").annotate(total=Sum("points")).values("total")
    )
    credits = PointsTransaction.objects.filter(points__gt=0)
    if member_ids is not None:
        credits = credits.filter(member_id__in=member_ids)
    from django.db.models import Window

    net = F("points") + Coalesce(Subquery(own, output_field=IntegerField()), Value(0))
    return credits.annotate(
        net=net,
        running=Window(
            Sum(net), partition_by=[F("member_id")],
            order_by=[F("expires_at").asc(nulls_last=True), F("created_at").asc(), F("id").asc()],
        ),
        consumed=-Coalesce(Subquery(floating, output_field=IntegerField()), Value(0)),
    )


def credit_remaining(row) -> int:
    """What is left of one row of `credits_with_remaining()` (FIFO): never below 0 nor above its net."""
    return max(0, min(row.running - row.consumed, row.net))


def points_expire_due(*, run_date: date, chunk_size: int = 1000) -> dict:
    """Daily job: write an `expire` row for what is left of each earning whose expiry was
    before the start of `run_date` (local time). Keyed by the earning, so a rerun does nothing."""
    cutoff = day_start(run_date)
    already = PointsTransaction.objects.filter(original=OuterRef("pk"), kind=Kind.EXPIRE)
    from django.db.models import Exists

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
                        reason=_("Points earned on %(date)s expired") % {"date": timezone.localdate(credit.created_at)},
                        idempotency_key=f"expire:{credit.pk}", created_at=now,
                    ))
            PointsTransaction.objects.bulk_create(rows)
            points_refresh_cached(chunk)
            expired_rows += len(rows)
            expired_points += -sum(row.points for row in rows)
    return {"members": len(member_ids), "rows": expired_rows, "points": expired_points}


def points_warn_expiring(*, run_date: date) -> dict:
    """Daily job: tell members whose points expire within CLUB_EXPIRY_WARNING_DAYS, once per earning."""
    from club.services.notifications import notice_send_once

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


# --- Verify and rebuild ----------------------------------------------------------------------


def _ledger_sum():
    return Coalesce(
        Subquery(
            PointsTransaction.objects.filter(member=OuterRef("pk")).order_by().values("member")
            .annotate(total=Sum("points")).values("total"),
            output_field=IntegerField(),
        ),
        Value(0),
    )


def _pending_sum():
    return Coalesce(
        Subquery(
            PendingPoints.objects.filter(member=OuterRef("pk"), status=PendingPoints.Status.PENDING).order_by()
            .values("member").annotate(total=Sum("points")).values("total"),
            output_field=IntegerField(),
        ),
        Value(0),
    )


def _shortfall_sum():
    return Coalesce(
        Subquery(
            PointsTransaction.objects.filter(member=OuterRef("pk"), kind=Kind.REVERSE).order_by().values("member")
            .annotate(total=Sum("shortfall")).values("total"),
            output_field=IntegerField(),
        ),
        Value(0),
    )


def points_refresh_cached(member_ids) -> int:
    """Set these members' cached balance, pending points and shortfall from the ledger, in one UPDATE."""
    return Membership.objects.filter(pk__in=member_ids).update(
        points_balance=_ledger_sum(), pending_points=_pending_sum(), points_shortfall=_shortfall_sum()
    )


def points_verify_balances():
    """Memberships whose cached figures disagree with the ledger (a QuerySet, empty when all is well)."""
    return (
        Membership.objects.annotate(ledger_balance=_ledger_sum(), ledger_pending=_pending_sum(), ledger_shortfall=_shortfall_sum())
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
