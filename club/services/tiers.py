"""Tiers: qualification on points earned (or counted spend) in a rolling window.

Upgrades happen at once (`tier_upgrade_if_qualified`, called when points are earned or
an order counts); downgrades only in the periodic review (`tiers_review`), after a grace
period, as a few set-based statements over all members. A manual override (`tier_set`)
freezes the tier until a date; every change is a `TierChange` row.
"""

from datetime import date, datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from club import signals
from club.dates import day_end
from club.models import Membership, Tier, TierChange
from club.selectors.config_rows import tiers_highest_first
from club.selectors.tiers import tier_for_value, tier_qualifying_value, tier_qualifying_values, tier_window
from club.services.common import after_commit, lock_member
from core.audit import SOURCE_MAX_LENGTH, audited, current_source
from core.rows import instances_insert


def tier_upgrade_if_qualified(*, member: Membership, at: datetime | None = None) -> TierChange | None:
    """Move a member up at once when they qualify for a higher tier (never down)."""
    with transaction.atomic():
        locked = lock_member(member)  # already ours in the points flows: re-locking is free
        today = timezone.localdate(at) if at else timezone.localdate()
        if not locked.is_active or locked.tier_is_frozen(today):
            return None
        target = tier_for_value(tier_qualifying_value(member=locked, at=at))
        current_rank = locked.tier.rank if locked.tier_id else -1
        if target is None or target.rank <= current_rank:
            return None
        change = _change(locked, target, TierChange.Reason.QUALIFIED)
        member.tier, member.below_tier_since = locked.tier, None
        return change


def tiers_upgrade_qualified(*, member_ids=None, members: list[Membership] | None = None) -> int:
    """Upgrade each of these members who qualifies, set-based: one query for their qualifying values,
    one for the tiers, one UPDATE per tier reached and one INSERT of the changes, whatever their number.

    Called after a batch of orders (`members`, already locked by the caller) and after the bulk
    release of pending points (`member_ids`)."""
    if members is None:
        members = list(Membership.objects.filter(pk__in=list(member_ids)).order_by("pk"))
    today = timezone.localdate()
    members = [member for member in members if member.is_active and not member.tier_is_frozen(today)]
    if not members:
        return 0
    tiers = tiers_highest_first()
    if not tiers:
        return 0
    values = tier_qualifying_values(members=members)
    by_id = {tier.pk: tier for tier in tiers}  # each member's tier from these, not a copy loaded with every member
    moves: dict[Tier, list[Membership]] = {}
    for member in members:
        target = next((tier for tier in tiers if tier.threshold <= values.get(member.pk, 0)), None)
        current = by_id.get(member.tier_id)
        if target is not None and target.rank > (current.rank if current is not None else -1):
            moves.setdefault(target, []).append(member)
    changes = []
    for tier, moving in moves.items():
        Membership.objects.filter(pk__in=[member.pk for member in moving]).update(tier=tier, below_tier_since=None)
        for member in moving:
            changes.append(TierChange(member=member, from_tier=by_id.get(member.tier_id), to_tier=tier,
                                      reason=TierChange.Reason.QUALIFIED))
            member.tier, member.below_tier_since = tier, None
    instances_insert(changes)
    _announce_review_changes([change.pk for change in changes])
    return len(changes)


@audited
@transaction.atomic
def tier_set(*, member: Membership, tier: Tier | None, by, note: str, frozen_until: date | None = None) -> TierChange:
    """Staff set a member's tier; with `frozen_until`, neither upgrades nor the review touch it until then."""
    note = (note or "").strip()
    if not note:
        raise ValidationError({"note": _("Say why the tier is set by hand.")})
    if frozen_until is not None and frozen_until < timezone.localdate():
        raise ValidationError({"frozen_until": _("The freeze must end today or later.")})
    locked = lock_member(member)
    locked.tier_frozen_until = frozen_until
    locked.below_tier_since = None
    locked.save(update_fields=["tier_frozen_until", "below_tier_since"])
    member.tier_frozen_until = frozen_until
    change = _change(locked, tier, TierChange.Reason.MANUAL, by=by, note=note)
    member.tier_id, member.tier = locked.tier_id, locked.tier
    return change


def _change(member: Membership, tier: Tier | None, reason: str, *, by=None, note: str = "") -> TierChange:
    previous = member.tier
    Membership.objects.filter(pk=member.pk).update(tier=tier, below_tier_since=None)
    member.tier, member.below_tier_since = tier, None
    change = TierChange.objects.create(member=member, from_tier=previous, to_tier=tier, reason=reason, changed_by=by, note=note)
    after_commit(signals.tier_changed.send, sender=Membership, changes=[change])
    return change


# --- The periodic review ---------------------------------------------------------------------

_RANK = "COALESCE((SELECT t.rank FROM club_tier t WHERE t.id = {column}), -1)"
_CHANGE_CONDITION = f"""
    club_membership.status = 'active'
    AND {{distinct_tiers}}
    AND (club_membership.tier_frozen_until IS NULL OR club_membership.tier_frozen_until < %(run_date)s)
    AND ({_RANK.format(column="club_membership.qualified_tier_id")} > {_RANK.format(column="club_membership.tier_id")}
         OR ({_RANK.format(column="club_membership.qualified_tier_id")} < {_RANK.format(column="club_membership.tier_id")}
             AND club_membership.below_tier_since <= %(grace_cutoff)s))
"""
_REASON = f"""CASE WHEN {_RANK.format(column="to_tier_id")} > {_RANK.format(column="from_tier_id")}
    THEN 'review_upgrade' ELSE 'review_downgrade' END"""


def _qualifying_sql() -> str:
    """member id -> qualifying value in the window, for every active member (0 when none)."""
    if settings.CLUB_TIER_BASIS == "spend":
        aggregate = """
            SELECT o.customer_id AS key_id, SUM(o.net_total) AS value FROM crm_order o
            WHERE o.is_counted AND o.placed_at >= %(start)s AND o.placed_at < %(end)s GROUP BY o.customer_id"""
        key = "mm.customer_id"
    else:
        aggregate = """
            SELECT p.member_id AS key_id, SUM(p.points) - SUM(p.shortfall) AS value FROM club_pointstransaction p
            WHERE p.kind IN ('earn', 'reverse') AND p.created_at >= %(start)s AND p.created_at < %(end)s GROUP BY p.member_id"""
        key = "mm.id"
    return f"""
        SELECT mm.id AS member_id, COALESCE(s.value, 0) AS value, COALESCE(current.rank, -1) AS current_rank
        FROM club_membership mm
        LEFT JOIN ({aggregate}) s ON s.key_id = {key}
        LEFT JOIN club_tier current ON current.id = mm.tier_id
        WHERE mm.status = 'active'"""  # nosec B608 - table names and conditions are constants; values are parameters


def _distinct(left: str, right: str) -> str:
    # NULL-safe "differs": SQLite spells it IS NOT.
    operator = "IS DISTINCT FROM" if connection.vendor == "postgresql" else "IS NOT"
    return f"({left}) {operator} ({right})"


def tiers_review(*, run_date: date) -> dict:
    """Periodic review over all members: set-based statements in one transaction.

    1. One UPDATE records each active member's qualifying value (points earned or counted
       spend in the window ending with `run_date`) and qualified tier, and starts (or clears)
       the grace period of members below their tier. It writes only the rows whose figures
       change, so a quiet night touches few rows.
    2. The upgrades, and the downgrades whose grace period is over, are applied and each
       recorded as a TierChange: on PostgreSQL in one statement (an UPDATE ... RETURNING
       feeding the INSERT, so exactly the rows changed are recorded); on SQLite, which has
       one writer at a time, as an INSERT ... SELECT and an UPDATE with the same condition.
    3. In the same transaction, `tiers_changed` names the changes (the INSERT returns their ids).
    Members with a frozen tier are left alone. Rerunning for the same date changes nothing."""
    start, end = tier_window(day_end(run_date))
    params = {
        "run_date": _param(run_date, "date"),
        "grace_cutoff": _param(run_date - timedelta(days=settings.CLUB_TIER_GRACE_DAYS), "date"),
        "start": _param(start, "datetime"),
        "end": _param(end, "datetime"),
        "now": _param(timezone.now(), "datetime"),
        # The rows are inserted in SQL, not by the model: they name their source themselves (core.audit).
        "audit_source": current_source()[:SOURCE_MAX_LENGTH],
    }
    below_since = """CASE
        WHEN club_membership.tier_frozen_until IS NOT NULL AND club_membership.tier_frozen_until >= %(run_date)s THEN NULL
        WHEN COALESCE(q.tier_rank, -1) < q.current_rank
            THEN COALESCE(club_membership.below_tier_since, %(run_date)s)
        ELSE NULL END"""
    qualify = f"""
        UPDATE club_membership SET qualifying_value = q.value, qualified_tier_id = q.tier_id, below_tier_since = {below_since}
        FROM (
            SELECT w.member_id, w.value, w.current_rank, w.tier_id, tier.rank AS tier_rank
            FROM (
                SELECT v.*, (SELECT t.id FROM club_tier t WHERE t.threshold <= v.value ORDER BY t.rank DESC LIMIT 1) AS tier_id
                FROM ({_qualifying_sql()}) v
            ) w
            LEFT JOIN club_tier tier ON tier.id = w.tier_id
        ) q
        WHERE club_membership.id = q.member_id
          AND ({_distinct("club_membership.qualifying_value", "q.value")}
               OR {_distinct("club_membership.qualified_tier_id", "q.tier_id")}
               OR {_distinct("club_membership.below_tier_since", below_since)})
    """  # nosec B608 - table names and conditions are constants; values are parameters
    # Cheap test first: most members' qualified tier is their tier, and the rank lookups are skipped.
    change_condition = _CHANGE_CONDITION.format(
        distinct_tiers=_distinct("club_membership.qualified_tier_id", "club_membership.tier_id"))
    if connection.vendor == "postgresql":
        statements = [f"""
            WITH changed AS (
                UPDATE club_membership SET tier_id = club_membership.qualified_tier_id, below_tier_since = NULL
                FROM club_membership previous
                WHERE previous.id = club_membership.id AND {change_condition}
                RETURNING club_membership.id AS member_id, previous.tier_id AS from_tier_id, club_membership.tier_id AS to_tier_id
            )
            INSERT INTO club_tierchange (member_id, from_tier_id, to_tier_id, reason, note, changed_at, changed_by_id,
                                         audit_source)
            SELECT member_id, from_tier_id, to_tier_id, {_REASON}, '', %(now)s, NULL, %(audit_source)s FROM changed
            RETURNING id
        """]  # nosec B608 - table names and conditions are constants; values are parameters
    else:
        statements = [
            f"""
            INSERT INTO club_tierchange (member_id, from_tier_id, to_tier_id, reason, note, changed_at, changed_by_id,
                                         audit_source)
            SELECT member_id, from_tier_id, to_tier_id, {_REASON}, '', %(now)s, NULL, %(audit_source)s FROM (
                SELECT club_membership.id AS member_id, club_membership.tier_id AS from_tier_id,
                    club_membership.qualified_tier_id AS to_tier_id
                FROM club_membership WHERE {change_condition}
            ) changes
            RETURNING id
            """,  # nosec B608 - table names and conditions are constants; values are parameters
            f"UPDATE club_membership SET tier_id = qualified_tier_id, below_tier_since = NULL WHERE {change_condition}",  # nosec B608 - table names and conditions are constants; values are parameters
        ]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(qualify, params)
        updated = cursor.rowcount
        cursor.execute(statements[0], params)
        change_ids = [row[0] for row in cursor.fetchall()]
        for statement in statements[1:]:
            cursor.execute(statement, params)
        _announce_review_changes(change_ids)
    return {"requalified": updated, "changed": len(change_ids)}


def _announce_review_changes(change_ids: list[int]) -> None:
    """tiers_changed for the members a batch or the review moved, in their transaction (their webhook rows commit
    with them), by id, 1,000 changes at a time: the update itself stays set-based; listeners (the partners'
    webhooks) still hear of every change."""
    for start in range(0, len(change_ids), 1000):
        signals.tiers_changed.send(sender=Membership, change_ids=change_ids[start:start + 1000])


def _param(value, kind: str):
    ops = connection.ops
    if kind == "date":
        return ops.adapt_datefield_value(value)
    return ops.adapt_datetimefield_value(value)
