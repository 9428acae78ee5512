"""The club's points liability as of a day: what members hold, what will expire, what it is worth,
and how much of what was earned is spent or lost (the redemption and breakage rates).

As of a day D means: the ledger rows created on or before D (local time, `club.dates`), the pending
holds as they stood at the end of D, and each member's tier at the end of D read from the tier
history (`TierChange`). Everything is computed by the database: one statement for the figures of
every tier, one for the 12-month trend, whatever the number of members or rows.

- outstanding (available): the sum of the ledger, i.e. the members' balances at the end of D;
- pending: purchase points held for the return period (`PendingPoints`) created by D and not yet
  released by D (a hold's points are read as they are now: a refund reduces a hold in place, undated);
- expiring in N days: what is left (FIFO, as `credits_with_remaining` defines it) of the credits whose
  `expires_at` is before the end of D + N days, including those past their date that the nightly
  expiry has not written off yet (as the club card counts them); 60 days includes 30, 90 includes 60;
- liability value: (outstanding + pending) x CLUB_POINT_VALUE;
- over the trailing 12 months (the rows created after D a year before, up to D): earned = `earn` rows
  less what `reverse` rows took back (a cancelled order's points were never really issued); redeemed
  = `redeem` rows; expired = `expire` rows. Redemption rate = redeemed / earned, breakage rate =
  expired / earned, null when nothing was earned. Staff adjustments move the balance but are neither
  earned nor redeemed.
"""

from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connections
from django.db.models import Max
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from club.dates import day_end
from club.models import PointsTransaction, Tier
from core.content import in_default_language
from core.replicas import read_alias

Kind = PointsTransaction.Kind
EXPIRY_HORIZONS = (30, 60, 90)
TREND_MONTHS = 12

# The figures of the keys of `club_liability --json`, in that order (`as_of` and `tiers` around them).
FIGURES = ("outstanding_points", "pending_points", "expiring_30d", "expiring_60d", "expiring_90d", "liability_value",
           "redemption_rate", "breakage_rate")


@dataclass(frozen=True)
class LiabilityFigures:
    outstanding_points: int = 0
    pending_points: int = 0
    expiring_30d: int = 0
    expiring_60d: int = 0
    expiring_90d: int = 0
    earned_points: int = 0  # trailing 12 months, net of reversals
    redeemed_points: int = 0
    expired_points: int = 0
    point_value: Decimal = Decimal("0")

    @property
    def liability_value(self) -> Decimal:
        return (self.outstanding_points + self.pending_points) * self.point_value

    @property
    def redemption_rate(self) -> float | None:
        return _rate(self.redeemed_points, self.earned_points)

    @property
    def breakage_rate(self) -> float | None:
        return _rate(self.expired_points, self.earned_points)

    def figures(self) -> dict:
        """The published figures (money as a string, as the other commands print it)."""
        data = {name: getattr(self, name) for name in FIGURES}
        data["liability_value"] = str(self.liability_value)
        return data

    def __add__(self, other: "LiabilityFigures") -> "LiabilityFigures":
        return LiabilityFigures(**{
            name: getattr(self, name) + getattr(other, name) for name in _COUNTS
        }, point_value=self.point_value)


_COUNTS = ("outstanding_points", "pending_points", "expiring_30d", "expiring_60d", "expiring_90d", "earned_points",
           "redeemed_points", "expired_points")


@dataclass(frozen=True)
class TierLiability:
    tier: Tier | None  # None: members who held no tier
    figures: LiabilityFigures

    @property
    def name(self) -> str | None:
        """In the default language, as partners and rules know tiers (the admin page shows `tier` itself)."""
        return in_default_language(self.tier, "name") if self.tier else None

    @property
    def slug(self) -> str | None:
        return slugify(self.name) if self.tier else None


@dataclass(frozen=True)
class Liability:
    as_of: date
    total: LiabilityFigures
    tiers: list[TierLiability] = field(default_factory=list)  # by the tier each member held at the end of `as_of`

    def as_dict(self) -> dict:
        return {
            "as_of": self.as_of.isoformat(),
            **self.total.figures(),
            "tiers": [{"tier": row.name, "slug": row.slug, **row.figures.figures()} for row in self.tiers],
        }


@dataclass(frozen=True)
class TrendPoint:
    day: date
    outstanding_points: int
    pending_points: int
    point_value: Decimal

    @property
    def liability_value(self) -> Decimal:
        return (self.outstanding_points + self.pending_points) * self.point_value

    def as_dict(self) -> dict:
        data = asdict(self)
        data.pop("point_value")
        return {**data, "day": self.day.isoformat(), "liability_value": str(self.liability_value)}


def club_liability(*, as_of: date | None = None) -> Liability:
    """The liability as of the end of `as_of` (today by default), in total and per tier (two queries)."""
    as_of = as_of or timezone.localdate()
    cutoff = day_end(as_of)
    connection = connections[read_alias()]
    params = {
        "cutoff": _param(connection, cutoff),
        "since": _param(connection, day_end(year_before(as_of))),
        **{f"e{days}": _param(connection, day_end(as_of + timedelta(days=days))) for days in EXPIRY_HORIZONS},
    }
    with connection.cursor() as cursor:
        cursor.execute(_LIABILITY_SQL, params)
        rows = {tier_id: row for tier_id, *row in cursor.fetchall()}
    value = settings.CLUB_POINT_VALUE
    tiers = list(Tier.objects.using(connection.alias).order_by("rank"))
    per_tier = [TierLiability(tier, _figures(rows.get(tier.pk), value)) for tier in tiers]
    known = {tier.pk for tier in tiers}
    stray = [row for tier_id, row in rows.items() if tier_id not in known]  # no tier (None)
    if stray:
        per_tier.append(TierLiability(None, sum((_figures(row, value) for row in stray), LiabilityFigures(point_value=value))))
    total = sum((row.figures for row in per_tier), LiabilityFigures(point_value=value))
    return Liability(as_of=as_of, total=total, tiers=per_tier)


def liability_trend(*, as_of: date | None = None, months: int = TREND_MONTHS) -> list[TrendPoint]:
    """Outstanding and pending points at the end of each of the last `months` months, the last point
    being `as_of` itself (its month is not over): one statement, the ledger read once."""
    as_of = as_of or timezone.localdate()
    days = month_ends(as_of, months)
    connection = connections[read_alias()]
    params = {f"c{index}": _param(connection, day_end(day)) for index, day in enumerate(days)}
    ends = ", ".join(f"({index}, %(c{index})s)" for index in range(len(days)))
    def buckets(column):
        return " ".join(f"WHEN {column} < %(c{index})s THEN {index}" for index in range(len(days)))

    sql = _TREND_SQL.format(ends=ends, buckets=buckets("p.created_at"), held_buckets=buckets("h.created_at"),
                            released_buckets=buckets("r.created_at"), last=f"%(c{len(days) - 1})s")
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        found = {index: (available, pending) for index, available, pending in cursor.fetchall()}
    value = settings.CLUB_POINT_VALUE
    return [TrendPoint(day, int(found[index][0] or 0), int(found[index][1] or 0), value) for index, day in enumerate(days)]


@dataclass(frozen=True)
class StoredLiability:
    """The liability as the nightly snapshot stored it (club.models.PointsLiabilitySnapshot), and when."""
    liability: Liability
    computed_at: datetime


def liability_snapshot_latest_day() -> date | None:
    """The day of the latest snapshot, None when there is none yet (one query)."""
    from club.models import PointsLiabilitySnapshot

    return PointsLiabilitySnapshot.objects.using(read_alias()).aggregate(day=Max("day"))["day"]


def liability_snapshots(days) -> dict[date, StoredLiability]:
    """The stored liability of each of `days` that has a snapshot, in one query (with the tiers)."""
    from club.models import PointsLiabilitySnapshot

    rows = (PointsLiabilitySnapshot.objects.using(read_alias()).filter(day__in=list(days)).select_related("tier")
            .order_by("day", "tier__rank", "tier_id"))
    found: dict[date, dict] = {}
    for row in rows:
        day = found.setdefault(row.day, {"total": None, "tiers": [], "untiered": None, "computed_at": row.computed_at})
        figures = _stored_figures(row)
        if row.total:
            day["total"] = figures
            day["computed_at"] = row.computed_at
        elif row.tier_id is None:
            day["untiered"] = TierLiability(None, figures)
        else:
            day["tiers"].append(TierLiability(row.tier, figures))
    return {
        day: StoredLiability(Liability(as_of=day, total=parts["total"] or LiabilityFigures(),
                                       tiers=parts["tiers"] + ([parts["untiered"]] if parts["untiered"] else [])),
                             parts["computed_at"])
        for day, parts in found.items() if parts["total"] is not None
    }


def _stored_figures(row) -> LiabilityFigures:
    value = row.point_value
    value = value.normalize() if value else Decimal("0")  # 0.050000 as it was set: 0.05
    if value.as_tuple().exponent > 0:
        value = value.quantize(Decimal(1))
    return LiabilityFigures(**{name: getattr(row, name) for name in _COUNTS}, point_value=value)


def parse_as_of(value: str | None, *, today: date | None = None) -> date:
    """The `as_of` day from what a person typed (YYYY-MM-DD; empty: today). Refuses a day that is not a
    date or lies in the future (no ledger row is there yet) with a ValidationError naming `as_of`."""
    today = today or timezone.localdate()
    if value is None or not str(value).strip():
        return today
    try:
        day = date.fromisoformat(str(value).strip())
    except ValueError:
        raise ValidationError({"as_of": _("“%(value)s” is not a date; use YYYY-MM-DD.") % {"value": value}}) from None
    if day > today:
        raise ValidationError({"as_of": _("%(day)s is in the future; choose today or an earlier day.") % {"day": day}})
    return day


def month_ends(as_of: date, months: int = TREND_MONTHS) -> list[date]:
    """The last day of each of the `months - 1` months before `as_of`'s, then `as_of`."""
    days = [as_of]
    first = as_of.replace(day=1)
    for _index in range(months - 1):
        last = first - timedelta(days=1)
        days.append(last)
        first = last.replace(day=1)
    return days[::-1]


def year_before(day: date) -> date:
    """The same day a year earlier (29 February: the 28th)."""
    try:
        return day.replace(year=day.year - 1)
    except ValueError:
        return day.replace(year=day.year - 1, day=28)


def _figures(row, value: Decimal) -> LiabilityFigures:
    if row is None:
        return LiabilityFigures(point_value=value)
    return LiabilityFigures(*(int(number or 0) for number in row), point_value=value)


def _rate(part: int, whole: int) -> float | None:
    return None if whole <= 0 else part / whole


def _param(connection, moment):
    return connection.ops.adapt_datetimefield_value(moment)


# One row per tier (NULL: no tier): outstanding, pending, expiring in 30/60/90 days, earned, redeemed, expired.
#
# The ledger is read once, grouped by member with conditional sums. The FIFO remainders need no window: in
# expiry order (`credits_with_remaining`), credit i keeps clamp(running_i - consumed, 0, net_i), where net_i
# is the credit less what reversals and expiries took from it and `consumed` the member's unattached debits.
# The credits expiring before a horizon are a prefix of that order, and each net is >= 0 (an expiry takes at
# most what is left, a reversal at most what was neither reversed nor expired), so their remainders add up to
# max(0, R - consumed), R the sum of their nets: the credits' own points plus what the rows taking from them
# took. A taking row finds its credit's expiry by a join to the credits expiring before the last horizon
# (read through the partial index `club_points_expiring`, not a second pass over the ledger).
# The tier each member held at the cutoff comes from one sorted pass over the tier history.
_LIABILITY_SQL = f"""
WITH soon AS (
    SELECT id, expires_at FROM club_pointstransaction
    WHERE points > 0 AND expires_at IS NOT NULL AND expires_at < %(e90)s AND created_at < %(cutoff)s
),
moves AS (
    SELECT e.member_id,
        SUM(e.points) AS balance,
        SUM(CASE WHEN e.created_at >= %(since)s AND e.kind IN ('{Kind.EARN}', '{Kind.REVERSE}') THEN e.points ELSE 0 END)
            AS earned,
        -SUM(CASE WHEN e.created_at >= %(since)s AND e.kind = '{Kind.REDEEM}' THEN e.points ELSE 0 END) AS redeemed,
        -SUM(CASE WHEN e.created_at >= %(since)s AND e.kind = '{Kind.EXPIRE}' THEN e.points ELSE 0 END) AS expired,
        -SUM(CASE WHEN e.points < 0 AND e.original_id IS NULL THEN e.points ELSE 0 END) AS consumed,
        SUM(CASE WHEN e.expires_at < %(e30)s THEN e.points ELSE 0 END) AS r30,
        SUM(CASE WHEN e.expires_at < %(e60)s THEN e.points ELSE 0 END) AS r60,
        SUM(CASE WHEN e.expires_at < %(e90)s THEN e.points ELSE 0 END) AS r90
    FROM (
        -- Each row with the expiry of the credit it counts for: its own (a credit), its credit's (a taking row).
        SELECT l.member_id, l.points, l.kind, l.original_id, l.created_at,
            COALESCE(CASE WHEN l.points > 0 THEN l.expires_at END, s.expires_at) AS expires_at
        FROM club_pointstransaction l
        LEFT JOIN soon s ON s.id = l.original_id AND l.kind IN ('{Kind.REVERSE}', '{Kind.EXPIRE}')
        WHERE l.created_at < %(cutoff)s
    ) e
    GROUP BY e.member_id
),
held AS (
    SELECT h.member_id, SUM(h.points) AS points
    FROM club_pendingpoints h LEFT JOIN club_pointstransaction r ON r.id = h.released_id
    WHERE h.created_at < %(cutoff)s AND (r.id IS NULL OR r.created_at >= %(cutoff)s)
    GROUP BY h.member_id
),
ordered AS (
    -- The changes before the cutoff are a prefix of each member's history in (changed_at, id) order.
    SELECT member_id, from_tier_id, to_tier_id,
        ROW_NUMBER() OVER (PARTITION BY member_id ORDER BY changed_at, id) AS k,
        SUM(CASE WHEN changed_at < %(cutoff)s THEN 1 ELSE 0 END) OVER (PARTITION BY member_id) AS before
    FROM club_tierchange
),
history AS (
    SELECT member_id, MAX(before) AS before,
        MAX(CASE WHEN k = before THEN to_tier_id END) AS last_to,
        MAX(CASE WHEN k = 1 THEN from_tier_id END) AS first_from
    FROM ordered GROUP BY member_id
)
-- The tier at the cutoff: the last change before it; else, when every change came later, the tier the first of
-- them started from; else (no history at all) the tier held now.
SELECT CASE WHEN y.before > 0 THEN y.last_to WHEN y.member_id IS NOT NULL THEN y.first_from ELSE m.tier_id END,
    SUM(COALESCE(v.balance, 0)), SUM(COALESCE(h.points, 0)),
    SUM(CASE WHEN v.r30 > v.consumed THEN v.r30 - v.consumed ELSE 0 END),
    SUM(CASE WHEN v.r60 > v.consumed THEN v.r60 - v.consumed ELSE 0 END),
    SUM(CASE WHEN v.r90 > v.consumed THEN v.r90 - v.consumed ELSE 0 END),
    SUM(COALESCE(v.earned, 0)), SUM(COALESCE(v.redeemed, 0)), SUM(COALESCE(v.expired, 0))
FROM club_membership m
LEFT JOIN moves v ON v.member_id = m.id
LEFT JOIN held h ON h.member_id = m.id
LEFT JOIN history y ON y.member_id = m.id
WHERE v.member_id IS NOT NULL OR h.member_id IS NOT NULL
GROUP BY CASE WHEN y.before > 0 THEN y.last_to WHEN y.member_id IS NOT NULL THEN y.first_from ELSE m.tier_id END
"""  # nosec B608 - table names and kinds are constants; values are parameters

# Each month end's balance: the ledger rows bucketed by the first month end they precede, summed cumulatively.
# The pending holds the same way: a hold counts from the bucket it was created in, and stops counting from the
# bucket in which both it and its release exist. The ledger and the holds are each read once.
_TREND_SQL = """
WITH ends (n, cutoff) AS (VALUES {ends}),
moves AS (
    SELECT CASE {buckets} END AS n, SUM(p.points) AS points
    FROM club_pointstransaction p WHERE p.created_at < {last}
    GROUP BY CASE {buckets} END
),
holds AS (
    SELECT n, SUM(points) AS points FROM (
        SELECT CASE {held_buckets} END AS n, h.points
        FROM club_pendingpoints h WHERE h.created_at < {last}
        UNION ALL
        SELECT CASE WHEN x.held > x.released THEN x.held ELSE x.released END, -x.points
        FROM (
            SELECT CASE {held_buckets} END AS held, CASE {released_buckets} END AS released, h.points
            FROM club_pendingpoints h JOIN club_pointstransaction r ON r.id = h.released_id
            WHERE h.created_at < {last} AND r.created_at < {last}
        ) x
    ) u
    GROUP BY n
)
SELECT e.n,
    SUM(COALESCE(m.points, 0)) OVER (ORDER BY e.n ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW),
    SUM(COALESCE(h.points, 0)) OVER (ORDER BY e.n ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
FROM ends e LEFT JOIN moves m ON m.n = e.n LEFT JOIN holds h ON h.n = e.n
ORDER BY e.n
"""  # nosec B608 - the placeholders are built from constants and indexes; values are parameters
