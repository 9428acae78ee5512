"""The purchase earning of a batch of orders in one `INSERT ... SELECT` (PostgreSQL).

club.services.purchases computes the same thing in Python (the road on SQLite, which has no exact
decimals); both give the same rows, to the point (tests/club/test_purchase_sql.py compares them on
a varied batch). PostgreSQL's `numeric` is exact, so the statement computes every figure in the
database: the batch's earning orders (counted, of an active member, placed on or after joining)
times the rules in force when each was placed whose minimum it reaches; per line
floor(amount x total x points per unit x tier multiplier x category multiplier / gross), exactly
(`div` of exact products, no rounded scale factor); an order without priced lines earns
floor(total x points per unit x tier multiplier); the rules' limits over what each member earned
or holds pending already plus the batch, in order id order; then the ledger (or pending) rows,
each with its per-line JSON (`jsonb_object_agg`) and its key `order:<id>:rule:<id>`, with
`ON CONFLICT DO NOTHING` (a replayed batch earns nothing twice). A figure beyond a 64-bit integer
is not written but answered, so the caller refuses it as the Python road does (core.bounds). The rows
written are answered with what their points.earned payloads render (their order's public id and number
too), so the webhooks read nothing again.
"""

import json
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection
from django.utils import timezone

from club.dates import day_start
from club.models import EarningRule, PendingPoints, PointsTransaction
from core.audit import SOURCE_MAX_LENGTH, current_source
from core.bounds import POINTS_MAX
from crm.models import Order

_RULES = """
    SELECT * FROM unnest(%(rule_id)s::bigint[], %(ordinal)s::int[], %(per_unit)s::numeric[], %(apply_tier)s::boolean[],
                         %(multipliers)s::text[]::jsonb[], %(min_value)s::numeric[], %(starts_at)s::timestamptz[],
                         %(ends_at)s::timestamptz[], %(limited)s::boolean[], %(limit_count)s::bigint[], %(since)s::timestamptz[])
        AS r(id, ordinal, per_unit, apply_tier, multipliers, min_value, starts_at, ends_at, limited, limit_count, since)
"""

_PAID = """
    AND NOT EXISTS (SELECT 1 FROM club_pointstransaction t WHERE t.idempotency_key = 'order:' || o.id || ':rule:' || r.id)
    AND NOT EXISTS (SELECT 1 FROM club_pendingpoints t WHERE t.idempotency_key = 'order:' || o.id || ':rule:' || r.id)
"""

_EARNED = """
WITH r AS ({rules}),
o AS (
    SELECT o.id, o.total, o.placed_at, m.id AS member_id, m.tier_id, t.points_multiplier AS tier_multiplier
    FROM crm_order o
    JOIN club_membership m ON m.customer_id = o.customer_id
    LEFT JOIN club_tier t ON t.id = m.tier_id
    WHERE o.id = ANY(%(order_ids)s) AND o.is_counted AND m.status = 'active' AND o.placed_at >= m.joined_at
),
pairs AS (
    SELECT o.id AS order_id, o.member_id, o.total, r.id AS rule_id, r.ordinal, r.multipliers, r.limited, r.limit_count, r.since,
           r.per_unit * CASE WHEN r.apply_tier AND o.tier_id IS NOT NULL THEN o.tier_multiplier ELSE 1 END AS per_unit
    FROM o CROSS JOIN r
    WHERE (r.starts_at IS NULL OR r.starts_at <= o.placed_at) AND (r.ends_at IS NULL OR r.ends_at > o.placed_at)
      AND o.total >= r.min_value {paid}
),
l AS (
    SELECT l.order_id, l.id, l.quantity, l.unit_price * l.quantity AS amount, l.category,
           sum(l.unit_price * l.quantity) OVER (PARTITION BY l.order_id) AS gross
    FROM crm_orderline l WHERE l.order_id IN (SELECT order_id FROM pairs)
),
scaled AS (
    SELECT p.order_id, p.rule_id, l.id AS line_id, l.quantity, l.gross,
           l.amount * p.total * p.per_unit * COALESCE((p.multipliers ->> l.category)::numeric, 1) AS numerator
    FROM pairs p JOIN l ON l.order_id = p.order_id
    WHERE l.gross > 0
),
by_line AS (
    SELECT order_id, rule_id, sum(points) AS points,
           jsonb_object_agg(line_id::text, jsonb_build_object('quantity', quantity, 'points', points)) AS lines
    FROM (SELECT order_id, rule_id, line_id, quantity,
                 div(numerator, gross) - CASE WHEN mod(numerator, gross) < 0 THEN 1 ELSE 0 END AS points
          FROM scaled) AS x
    GROUP BY order_id, rule_id
),
earned AS (
    SELECT p.order_id, p.member_id, p.rule_id, p.ordinal, p.limited, p.limit_count, p.since,
           COALESCE(b.points, floor(p.total * p.per_unit)) AS points, COALESCE(b.lines, '{{}}'::jsonb) AS lines
    FROM pairs p LEFT JOIN by_line b ON b.order_id = p.order_id AND b.rule_id = p.rule_id
),
counted AS (
    SELECT e.*, row_number() OVER (PARTITION BY e.rule_id, e.member_id ORDER BY e.order_id) AS nth
    FROM earned e WHERE e.points > 0
),
allowed AS (
    SELECT c.order_id, c.member_id, c.rule_id, c.ordinal, c.points, c.lines,
           'order:' || c.order_id || ':rule:' || c.rule_id AS key
    FROM counted c
    WHERE NOT c.limited OR c.nth <= c.limit_count - (
        (SELECT count(*) FROM club_pointstransaction t
         WHERE t.rule_id = c.rule_id AND t.member_id = c.member_id AND t.kind = 'earn' AND (c.since IS NULL OR t.created_at >= c.since))
      + (SELECT count(*) FROM club_pendingpoints t
         WHERE t.rule_id = c.rule_id AND t.member_id = c.member_id AND t.status = 'pending' AND (c.since IS NULL OR t.created_at >= c.since)))
),
ins AS ({insert}
    SELECT {values} FROM allowed WHERE points <= %(points_max)s ORDER BY member_id, order_id, ordinal
    ON CONFLICT DO NOTHING
    RETURNING {returned}
)
SELECT {returned_ins}, o.public_id, o.customer_id, o.order_number FROM ins JOIN crm_order o ON o.id = ins.order_id
UNION ALL
SELECT {too_large}, NULL, NULL, NULL FROM allowed WHERE points > %(points_max)s
"""

_LEDGER = """
    INSERT INTO club_pointstransaction (public_id, member_id, points, kind, source, reason, rule_id, order_id, source_ref,
                                        original_id, lines, shortfall, expires_at, idempotency_key, created_by_id,
                                        audit_source, created_at)"""
_LEDGER_VALUES = ("gen_random_uuid(), member_id, points, 'earn', 'order', '', rule_id, order_id, '', NULL, lines, 0, "
                  "%(expires_at)s, key, NULL, %(audit_source)s, %(now)s")
_PENDING = """
    INSERT INTO club_pendingpoints (member_id, order_id, rule_id, points, lines, reason, available_at, status,
                                    idempotency_key, released_id, created_at)"""
_PENDING_VALUES = "member_id, order_id, rule_id, points, lines, '', %(available_at)s, 'pending', key, NULL, %(now)s"
# The columns each written row is answered with: what its points.earned payload renders (api.webhooks), so nothing
# is read again; the per-line JSON (and the audit columns) load when read.
_LEDGER_RETURNED = ("id", "public_id", "member_id", "points", "kind", "source", "reason", "rule_id", "order_id",
                    "source_ref", "original_id", "shortfall", "expires_at", "idempotency_key", "created_at")
_PENDING_RETURNED = ("id", "member_id", "order_id", "rule_id", "points", "reason", "available_at", "status",
                     "idempotency_key", "created_at")
# A figure too large to write is answered in the same columns, from the earning (`allowed`).
_TOO_LARGE = {"member_id": "member_id", "order_id": "order_id", "rule_id": "rule_id", "points": "points",
              "idempotency_key": "key"}


def _limit_window(rule: EarningRule, now: datetime) -> tuple[int, datetime | None]:
    """As club.services.purchases._LimitCounter: how many earnings the limit allows, counted since when."""
    if rule.limit == EarningRule.Limit.ONCE:
        return 1, None
    if rule.limit == EarningRule.Limit.PER_DAY:
        return rule.limit_count, day_start(timezone.localdate(now))
    return rule.limit_count, now - timedelta(days=rule.limit_period_days)


def earnings_insert(*, order_ids: list[int], rules: list[EarningRule], new: bool,
                    now: datetime) -> tuple[list[PointsTransaction | PendingPoints], list[tuple[int, int, str]]]:
    """Write the batch's purchase rows in one statement. Returns the rows written, in id order (the columns a
    ledger row's payload renders, with their order - its public id, customer and number - and rule; the per-line
    JSON is loaded when read) and, apart, the (member, points, key) of earnings too large to write: the caller
    refuses the batch (core.bounds)."""
    pending = settings.CLUB_PENDING_DAYS > 0
    limits = [_limit_window(rule, now) if rule.limit != EarningRule.Limit.NONE else (0, None) for rule in rules]
    params = {
        "rule_id": [rule.pk for rule in rules], "ordinal": list(range(len(rules))),
        "per_unit": [rule.points_per_unit for rule in rules], "apply_tier": [rule.apply_tier_multiplier for rule in rules],
        "multipliers": [json.dumps({str(key): value for key, value in (rule.category_multipliers or {}).items()})
                        for rule in rules],
        "min_value": [rule.min_order_value for rule in rules], "starts_at": [rule.starts_at for rule in rules],
        "ends_at": [rule.ends_at for rule in rules], "limited": [rule.limit != EarningRule.Limit.NONE for rule in rules],
        "limit_count": [count for count, _since in limits], "since": [since for _count, since in limits],
        "order_ids": list(order_ids), "points_max": POINTS_MAX, "now": now,
        "audit_source": current_source()[:SOURCE_MAX_LENGTH],
        "expires_at": now + timedelta(days=settings.CLUB_POINTS_EXPIRY_DAYS),
        "available_at": now + timedelta(days=settings.CLUB_PENDING_DAYS),
    }
    returned = _PENDING_RETURNED if pending else _LEDGER_RETURNED
    sql = _EARNED.format(rules=_RULES, paid="" if new else _PAID, insert=_PENDING if pending else _LEDGER,
                         values=_PENDING_VALUES if pending else _LEDGER_VALUES, returned=", ".join(returned),
                         returned_ins=", ".join(f"ins.{column}" for column in returned),
                         too_large=", ".join(_TOO_LARGE.get(column, "NULL") for column in returned))
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        found = cursor.fetchall()
    model = PendingPoints if pending else PointsTransaction
    rules_by_id = {rule.pk: rule for rule in rules}
    # from_db takes the values in the model's field order: the order of the returned columns in it, once.
    row_names = _field_order(model, returned)
    row_at = [returned.index(name) for name in row_names]
    points_at, order_names = returned.index("points"), _field_order(Order, ("id", "public_id", "customer_id", "order_number"))
    alias = connection.alias
    rows, too_large = [], []
    for values in found:
        if values[0] is None:  # `id` first: a figure too large to write, answered from the earning
            named = dict(zip(returned, values))
            too_large.append((named["member_id"], int(named["points"]), named["idempotency_key"]))
            continue
        values = list(values)
        values[points_at] = int(values[points_at])  # numeric: the UNION with the figures too large
        row = model.from_db(alias, row_names, [values[at] for at in row_at])
        # The facts its description and payload read (ledger_row_description): its order as the statement saw it,
        # and its rule.
        order_public_id, customer_id, order_number = values[len(returned):]
        facts = {"id": row.order_id, "public_id": order_public_id, "customer_id": customer_id, "order_number": order_number}
        row.order = Order.from_db(alias, order_names, [facts[name] for name in order_names])
        row.rule = rules_by_id[row.rule_id]
        rows.append(row)
    rows.sort(key=lambda row: row.pk)  # as they were inserted
    return rows, too_large


def _field_order(model, columns) -> list[str]:
    """`columns` in the order of `model`'s fields, as from_db takes values (the other fields load when read)."""
    return [field.attname for field in model._meta.concrete_fields if field.attname in columns]
