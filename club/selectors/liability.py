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
from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connections
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
    buckets = " ".join(f"WHEN p.created_at < %(c{index})s THEN {index}" for index in range(len(days)))
    sql = _TREND_SQL.format(ends=ends, buckets=buckets, last=f"%(c{len(days) - 1})s")
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        found = {index: (available, pending) for index, available, pending in cursor.fetchall()}
    value = settings.CLUB_POINT_VALUE
    return [TrendPoint(day, int(found[index][0] or 0), int(found[index][1] or 0), value) for index, day in enumerate(days)]


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
# The FIFO remainder of each credit is `credits_with_remaining` (club.selectors.ledger) restricted to the rows
# created before the cutoff: the credit's net (less what reversals and expiries took from it), a running sum in
# expiry order, less the member's unattached debits (redemptions, negative adjustments), clamped to [0, net].
_LIABILITY_SQL = f"""
WITH ledger AS (
    SELECT id, member_id, points, kind, original_id, expires_at, created_at
    FROM club_pointstransaction WHERE created_at < %(cutoff)s
),
taken AS (
    SELECT original_id AS credit_id, SUM(points) AS points FROM ledger
    WHERE original_id IS NOT NULL AND kind IN ('{Kind.REVERSE}', '{Kind.EXPIRE}') GROUP BY original_id
),
floating AS (
    SELECT member_id, -SUM(points) AS consumed FROM ledger WHERE points < 0 AND original_id IS NULL GROUP BY member_id
),
credits AS (
    SELECT c.member_id, c.expires_at, c.points + COALESCE(t.points, 0) AS net,
        SUM(c.points + COALESCE(t.points, 0)) OVER (
            PARTITION BY c.member_id
            ORDER BY CASE WHEN c.expires_at IS NULL THEN 1 ELSE 0 END, c.expires_at, c.created_at, c.id
        ) AS running
    FROM ledger c LEFT JOIN taken t ON t.credit_id = c.id
    WHERE c.points > 0
),
remaining AS (
    SELECT c.member_id, c.expires_at,
        CASE WHEN c.net <= 0 OR c.running - COALESCE(f.consumed, 0) <= 0 THEN 0
             WHEN c.running - COALESCE(f.consumed, 0) > c.net THEN c.net
             ELSE c.running - COALESCE(f.consumed, 0) END AS points
    FROM credits c LEFT JOIN floating f ON f.member_id = c.member_id
    WHERE c.expires_at IS NOT NULL AND c.expires_at < %(e90)s
),
expiring AS (
    SELECT member_id,
        SUM(CASE WHEN expires_at < %(e30)s THEN points ELSE 0 END) AS e30,
        SUM(CASE WHEN expires_at < %(e60)s THEN points ELSE 0 END) AS e60,
        SUM(points) AS e90
    FROM remaining GROUP BY member_id
),
flows AS (
    SELECT member_id, SUM(points) AS balance,
        SUM(CASE WHEN created_at >= %(since)s AND kind IN ('{Kind.EARN}', '{Kind.REVERSE}') THEN points ELSE 0 END) AS earned,
        SUM(CASE WHEN created_at >= %(since)s AND kind = '{Kind.REDEEM}' THEN -points ELSE 0 END) AS redeemed,
        SUM(CASE WHEN created_at >= %(since)s AND kind = '{Kind.EXPIRE}' THEN -points ELSE 0 END) AS expired
    FROM ledger GROUP BY member_id
),
held AS (
    SELECT h.member_id, SUM(h.points) AS points
    FROM club_pendingpoints h LEFT JOIN club_pointstransaction r ON r.id = h.released_id
    WHERE h.created_at < %(cutoff)s AND (r.id IS NULL OR r.created_at >= %(cutoff)s)
    GROUP BY h.member_id
),
members AS (
    SELECT member_id FROM flows UNION SELECT member_id FROM held
),
ranked AS (
    SELECT member_id, from_tier_id, to_tier_id, CASE WHEN changed_at < %(cutoff)s THEN 1 ELSE 0 END AS before,
        ROW_NUMBER() OVER (PARTITION BY member_id, CASE WHEN changed_at < %(cutoff)s THEN 1 ELSE 0 END
                           ORDER BY changed_at DESC, id DESC) AS latest,
        ROW_NUMBER() OVER (PARTITION BY member_id ORDER BY changed_at, id) AS earliest
    FROM club_tierchange
),
history AS (
    SELECT member_id, MAX(before) AS any_before,
        MAX(CASE WHEN before = 1 AND latest = 1 THEN to_tier_id END) AS last_to,
        MAX(CASE WHEN earliest = 1 THEN from_tier_id END) AS first_from
    FROM ranked GROUP BY member_id
),
tiered AS (
    -- The tier at the cutoff: the last change before it; else, when every change came later, the tier the first
    -- of them started from; else (no history at all) the tier held now. One pass over the history.
    SELECT s.member_id,
        CASE WHEN y.any_before = 1 THEN y.last_to WHEN y.member_id IS NOT NULL THEN y.first_from ELSE m.tier_id END
            AS tier_id
    FROM members s JOIN club_membership m ON m.id = s.member_id LEFT JOIN history y ON y.member_id = s.member_id
)
SELECT t.tier_id,
    SUM(COALESCE(f.balance, 0)), SUM(COALESCE(h.points, 0)),
    SUM(COALESCE(x.e30, 0)), SUM(COALESCE(x.e60, 0)), SUM(COALESCE(x.e90, 0)),
    SUM(COALESCE(f.earned, 0)), SUM(COALESCE(f.redeemed, 0)), SUM(COALESCE(f.expired, 0))
FROM tiered t
LEFT JOIN flows f ON f.member_id = t.member_id
LEFT JOIN held h ON h.member_id = t.member_id
LEFT JOIN expiring x ON x.member_id = t.member_id
GROUP BY t.tier_id
"""  # nosec B608 - table names and kinds are constants; values are parameters

# Each month end's balance: the ledger rows bucketed by the first month end they precede, summed cumulatively;
# pending holds counted at each month end as they stood then.
_TREND_SQL = """
WITH ends (n, cutoff) AS (VALUES {ends}),
moves AS (
    SELECT CASE {buckets} END AS n, SUM(p.points) AS points
    FROM club_pointstransaction p WHERE p.created_at < {last}
    GROUP BY CASE {buckets} END
)
SELECT e.n,
    SUM(COALESCE(m.points, 0)) OVER (ORDER BY e.n ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW),
    (SELECT COALESCE(SUM(h.points), 0)
     FROM club_pendingpoints h LEFT JOIN club_pointstransaction r ON r.id = h.released_id
     WHERE h.created_at < e.cutoff AND (r.id IS NULL OR r.created_at >= e.cutoff))
FROM ends e LEFT JOIN moves m ON m.n = e.n
ORDER BY e.n
"""  # nosec B608 - the placeholders are built from constants and indexes; values are parameters
