"""Purchase points for a batch of new orders (crm's `orders_created`), whichever road the orders took.

Who earns (DESIGN.md): an active member, for counted orders placed while a member (`placed_at`
on or after joining). A batch is handled in a constant number of statements whatever its size:
the earning orders come from one query (the orders joined to their memberships), the touched
memberships are locked in one statement (in id order, so two batches never wait on each other
in a circle), the ledger rows - one per order and rule, under the key `order:<id>:rule:<id>`, so
a replayed batch earns nothing twice - are inserted in one statement, each member's cached
balance moves once, and each member's tier is reviewed once.

On PostgreSQL the earning is one INSERT ... SELECT computed in the database's exact numeric
(club.services.purchase_sql); elsewhere (SQLite has no exact decimals) the same figures are
computed here in Python with Decimal, exactly, and written in one INSERT. The refunds take back
exactly the per-line figures written either way.
"""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from decimal import ROUND_FLOOR, Context, Decimal, localcontext

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Exists, F, OuterRef
from django.utils import timezone

from club import signals
from club.dates import day_start
from club.models import EarningRule, Membership, PendingPoints, PointsTransaction, Tier
from club.selectors.config_rows import order_rules
from club.services.earning import referral_rewards_for_orders
from club.services.purchase_sql import earnings_insert
from club.services.tiers import tiers_upgrade_qualified
from core.batches import whole_groups
from core.bounds import check_points
from core.rows import instances_insert
from crm.models import Order, OrderLine

Kind = PointsTransaction.Kind
Source = PointsTransaction.Source
ANNOUNCE_CHUNK = 1000  # ledger rows named by one points_earned
# Enough digits for every product of money (10^15), quantities, points per unit and multipliers to be exact.
_EXACT = Context(prec=200, rounding=ROUND_FLOOR)


def order_earning_key(order_id: int, rule_id: int) -> str:
    return f"order:{order_id}:rule:{rule_id}"


def points_award_for_orders(*, order_ids: Iterable[int], new: bool = False) -> list[PointsTransaction | PendingPoints]:
    """Purchase points (or pending points, with CLUB_PENDING_DAYS) for these orders, and the referral
    rewards their customers' first orders bring. Called inside the orders' transaction; running it
    again for the same orders adds nothing.

    `new`: the orders were written by this very transaction (crm's orders_created), so no earlier
    award can exist and the look-up of the keys is skipped; the unique key still stands guard."""
    ids = sorted(set(order_ids))
    if not ids:
        return []
    rules = order_rules()
    purchase_rules = [rule for rule in rules if rule.kind == EarningRule.Kind.PURCHASE]
    rows: list[PointsTransaction | PendingPoints] = []
    if purchase_rules or settings.CLUB_TIER_BASIS == "spend":
        rows = _award_purchases(ids, purchase_rules, new=new)
    referral_rules = [rule for rule in rules if rule.kind == EarningRule.Kind.REFERRAL and _in_force(rule, timezone.now())]
    if referral_rules:
        referral_rewards_for_orders(order_ids=ids)
    return rows


def _in_force(rule: EarningRule, at: datetime) -> bool:
    return (rule.starts_at is None or rule.starts_at <= at) and (rule.ends_at is None or rule.ends_at > at)


def _award_purchases(ids: Sequence[int], rules: list[EarningRule], *, new: bool,
                     in_sql: bool | None = None) -> list[PointsTransaction | PendingPoints]:
    """`in_sql`: the earning as one INSERT ... SELECT (club.services.purchase_sql), by default on PostgreSQL."""
    if in_sql is None:
        in_sql = connection.vendor == "postgresql"
    if in_sql:
        members = _members_locked(ids)
        rows = _write_sql(ids, rules, members, new=new) if (rules and members) else []
    else:
        members, rows = _award_in_python(ids, rules, new=new)
    if not members:
        return []
    earned_by = {row.member_id for row in rows if isinstance(row, PointsTransaction)}
    if settings.CLUB_TIER_BASIS == "spend":
        tiers_upgrade_qualified(members=list(members.values()))
    elif earned_by:
        tiers_upgrade_qualified(members=[members[pk] for pk in sorted(earned_by)])
    return rows


def _members_locked(ids: Sequence[int]) -> dict[int, Membership]:
    """The members the batch's earning orders belong to, locked in id order (so two batches never wait
    on each other in a circle): the ones the rest of the batch uses."""
    earning = Order.objects.filter(pk__in=ids, is_counted=True, customer__membership__status=Membership.Status.ACTIVE,
                                   placed_at__gte=F("customer__membership__joined_at")).values("customer__membership__id")
    # The columns the batch reads, no tier joined to every member (the tier review reads the few tiers once): a
    # file's chunk locks thousands of members. The customer's public id (what the points.earned payloads name) comes
    # in the same statement; only the members are locked.
    return {member.pk: member for member in Membership.objects.filter(pk__in=earning).select_related("customer")
            .select_for_update(of=("self",)).only(*_MEMBER_FIELDS, "customer__public_id").order_by("pk")}


# What a batch reads and writes of its members (balances, tier review); any other field loads when read.
_MEMBER_FIELDS = ("pk", "customer_id", "status", "tier_id", "tier_frozen_until", "below_tier_since", "points_balance",
                  "pending_points")


def _write_sql(ids: Sequence[int], rules: list[EarningRule], members: dict[int, Membership],
               *, new: bool) -> list[PointsTransaction | PendingPoints]:
    rows, too_large = earnings_insert(order_ids=list(ids), rules=rules, new=new, now=timezone.now())
    for _member_id, points, _key in too_large:
        check_points(points, field="points")  # raises: the transaction, orders and all, is rolled back
    added = defaultdict(int)
    for row in rows:
        row.member = members[row.member_id]
        added[row.member_id] += row.points
    _check_balances(added, members)
    _credit(rows, added, members)
    return rows


def _award_in_python(ids: Sequence[int], rules: list[EarningRule], *,
                     new: bool) -> tuple[dict[int, Membership], list[PointsTransaction | PendingPoints]]:
    # The earning orders and their members in one statement, which also locks the members: in id
    # order (PostgreSQL locks the rows as the sort returns them), so two batches never wait on
    # each other in a circle. The members read here are the ones the rest of the batch uses.
    members: dict[int, Membership] = {}
    orders = []
    for order in (Order.objects.filter(pk__in=ids, is_counted=True, customer__membership__status=Membership.Status.ACTIVE,
                                       placed_at__gte=F("customer__membership__joined_at"))
                  .select_related("customer__membership__tier").select_for_update(of=("customer__membership",))
                  .only("pk", "public_id", "order_number", "placed_at", "total", "customer_id", "customer__id",
                        "customer__public_id",
                        *(f"customer__membership__{field.name}" for field in Membership._meta.concrete_fields),
                        *(f"customer__membership__tier__{field.name}" for field in Tier._meta.concrete_fields))
                  .order_by("customer__membership__id", "pk")):
        member = members.setdefault(order.customer.membership.pk, order.customer.membership)
        orders.append({"pk": order.pk, "order_number": order.order_number, "placed_at": order.placed_at,
                       "total": order.total, "member_id": member.pk, "row": order})
    if not orders:
        return {}, []
    earnings = _earnings(orders, rules, members, new=new) if rules else []
    return members, _write(earnings, members)


def _earnings(orders: list[dict], rules: list[EarningRule], members: dict[int, Membership], *, new: bool) -> list[dict]:
    """What each (order, rule) pair earns, with the per-line breakdown; pairs already paid are left out."""
    candidates = [(order, rule) for order in orders for rule in rules
                  if _in_force(rule, order["placed_at"]) and order["total"] >= rule.min_order_value]
    if not candidates:
        return []
    keys = [order_earning_key(order["pk"], rule.pk) for order, rule in candidates]
    paid = set() if new else set(PointsTransaction.objects.filter(idempotency_key__in=keys).order_by().values_list("idempotency_key", flat=True)
               .union(PendingPoints.objects.filter(idempotency_key__in=keys).order_by().values_list("idempotency_key", flat=True)))
    lines = defaultdict(list)
    for line in OrderLine.objects.filter(order_id__in={order["pk"] for order, _rule in candidates}) \
            .values("pk", "order_id", "quantity", "unit_price", "category").order_by("pk"):
        lines[line["order_id"]].append(line)
    allowed = _LimitCounter(rules, members)
    earnings = []
    for (order, rule), key in zip(candidates, keys):
        if key in paid:
            continue
        member = members[order["member_id"]]
        points, breakdown = order_points(total=order["total"], lines=lines[order["pk"]], rule=rule, member=member)
        if points <= 0 or not allowed.take(rule, member):
            continue
        earnings.append({"order": order, "rule": rule, "member": member, "points": points, "lines": breakdown, "key": key})
    return earnings


def order_points(*, total: Decimal, lines: list[dict], rule: EarningRule, member: Membership) -> tuple[int, dict]:
    """Points an order earns under a purchase rule, in total and per line.

    Line amounts are scaled so they add up to the order total (discounts included); each
    line earns floor(amount x points per unit x category multiplier x tier multiplier), computed exactly
    (as club.services.purchase_sql does in PostgreSQL's numeric)."""
    tier_multiplier = member.tier.points_multiplier if (rule.apply_tier_multiplier and member.tier_id) else Decimal("1")
    with localcontext(_EXACT):
        per_unit = rule.points_per_unit * tier_multiplier
        gross = sum((line["unit_price"] * line["quantity"] for line in lines), Decimal("0"))
        if not lines or gross <= 0:
            return int((total * per_unit).to_integral_value(ROUND_FLOOR)), {}
    multipliers = {str(key): Decimal(str(value)) for key, value in (rule.category_multipliers or {}).items()}
    breakdown = {}
    with localcontext(_EXACT):
        for line in lines:
            # floor(amount x total / gross x ...) exactly: the products are exact at this precision, and the
            # division is an integer one (as PostgreSQL's div() in club.services.purchase_sql), never a rounded scale.
            numerator = line["unit_price"] * line["quantity"] * total * per_unit * multipliers.get(line["category"], Decimal("1"))
            quotient, remainder = divmod(numerator, gross)  # truncated toward zero; the remainder has the numerator's sign
            breakdown[str(line["pk"])] = {"quantity": line["quantity"], "points": int(quotient) - (1 if remainder < 0 else 0)}
    return sum(value["points"] for value in breakdown.values()), breakdown


class _LimitCounter:
    """A rule's limit (once, N a day, N per period) over the batch: what each member earned and holds
    under the rule already (one query per limited rule), plus what this batch gives them."""

    def __init__(self, rules: list[EarningRule], members: dict[int, Membership]):
        self.left: dict[tuple[int, int], int] = {}
        now = timezone.now()
        for rule in rules:
            if rule.limit == EarningRule.Limit.NONE:
                continue
            if rule.limit == EarningRule.Limit.ONCE:
                since, count = None, 1
            elif rule.limit == EarningRule.Limit.PER_DAY:
                since, count = day_start(timezone.localdate(now)), rule.limit_count
            else:
                since, count = now - timedelta(days=rule.limit_period_days), rule.limit_count
            used = defaultdict(int)
            for model, condition in ((PointsTransaction, {"kind": Kind.EARN}),
                                     (PendingPoints, {"status": PendingPoints.Status.PENDING})):
                rows = model.objects.filter(rule=rule, member_id__in=members, **condition)
                if since is not None:
                    rows = rows.filter(created_at__gte=since)
                for member_id, found in rows.values("member_id").annotate(found=Count("pk")).values_list("member_id", "found"):
                    used[member_id] += found
            for member_id in members:
                self.left[(rule.pk, member_id)] = count - used[member_id]

    def take(self, rule: EarningRule, member: Membership) -> bool:
        key = (rule.pk, member.pk)
        if key not in self.left:
            return True
        if self.left[key] <= 0:
            return False
        self.left[key] -= 1
        return True


def _write(earnings: list[dict], members: dict[int, Membership]) -> list[PointsTransaction | PendingPoints]:
    """The ledger (or pending) rows in one INSERT, and each member's cached figure moved once."""
    if not earnings:
        return []
    added = defaultdict(int)
    for earning in earnings:
        added[earning["member"].pk] += earning["points"]
    for earning in earnings:
        check_points(earning["points"], field="points")
    _check_balances(added, members)
    now = timezone.now()
    if settings.CLUB_PENDING_DAYS > 0:
        rows = [
            PendingPoints(member=earning["member"], order=earning["order"]["row"], rule=earning["rule"],
                          points=earning["points"], lines=earning["lines"],
                          idempotency_key=earning["key"], created_at=now,
                          available_at=now + timedelta(days=settings.CLUB_PENDING_DAYS))
            for earning in earnings
        ]
    else:
        rows = [
            PointsTransaction(member=earning["member"], points=earning["points"], kind=Kind.EARN, source=Source.ORDER,
                              rule=earning["rule"], order=earning["order"]["row"],
                              lines=earning["lines"], idempotency_key=earning["key"], created_at=now,
                              expires_at=now + timedelta(days=settings.CLUB_POINTS_EXPIRY_DAYS))
            for earning in earnings
        ]
    instances_insert(rows)
    _credit(rows, added, members)
    return rows


def _check_balances(added: dict[int, int], members: dict[int, Membership]) -> None:
    for member_id, points in added.items():
        member = members[member_id]
        # As points_check_room: pending points count as if released, so neither road can overflow a balance.
        check_points(member.points_balance + member.pending_points + points, field="points_balance")


def _credit(rows: list[PointsTransaction | PendingPoints], added: dict[int, int], members: dict[int, Membership]) -> None:
    """Each touched member's cached figure moved once (pending points or the balance), and the new
    ledger rows announced in the same transaction."""
    if not rows:
        return
    field = "pending_points" if settings.CLUB_PENDING_DAYS > 0 else "points_balance"
    if field == "points_balance":
        _announce_earned(rows, members)
    _members_add(field, added)
    for member_id, points in added.items():
        setattr(members[member_id], field, getattr(members[member_id], field) + points)


def _announce_earned(rows: list[PointsTransaction], members: dict[int, Membership]) -> None:
    """points_earned for a batch's new ledger rows, in its transaction (so their webhook rows commit with the
    points, or neither does), 1,000 rows at a time. The rows go with it as written, with what their payloads read
    (their order, rule and member with its customer's public id): the webhooks render them without reading them again."""
    for start in range(0, len(rows), ANNOUNCE_CHUNK):
        chunk = rows[start:start + ANNOUNCE_CHUNK]
        signals.points_earned.send(sender=PointsTransaction, transactions=chunk, rows=[
            (row.pk, row.public_id, members[row.member_id].customer_id) for row in chunk])


def _members_add(field: str, added: dict[int, int]) -> None:
    """Move each member's cached figure by its own amount in one UPDATE ... FROM (VALUES ...): a CASE with a
    branch per member would be tested row by row, thousands of times for a large batch."""
    table = Membership._meta.db_table
    column = Membership._meta.get_field(field).column
    pairs = list(added.items())
    with connection.cursor() as cursor:
        # 2,000 members a statement keeps the parameters within SQLite's limit (32,766).
        for start in range(0, len(pairs), 2000):
            chunk = pairs[start:start + 2000]
            values = ", ".join(["(%s, %s)"] * len(chunk))
            # PostgreSQL and SQLite both name the columns of a VALUES list column1, column2.
            cursor.execute(
                f"UPDATE {table} SET {column} = {table}.{column} + v.column2 FROM (VALUES {values}) AS v "  # nosec B608 - identifiers are the model's own; values are parameters
                f"WHERE {table}.id = v.column1",
                [number for pair in chunk for number in pair],
            )


# --- Backfill -----------------------------------------------------------------------------------

BACKFILL_CHUNK = 2000


class _DryRun(Exception):
    pass


def points_backfill(*, since: datetime | None = None, dry_run: bool = False, progress=None) -> dict:
    """Credit what orders that never earned should have earned (an import made before imports
    earned points), through the very path a new batch takes, a chunk of whole members at a time
    (core.batches.whole_groups: at most BACKFILL_CHUNK orders, a member with more being a chunk of
    its own), as a file's import announces its orders: each member's orders earn together, in id
    order, at the tier it had before, so a dry run credits exactly what a real run does.

    The orders looked at: counted orders of active members, placed on or after joining (and on or
    after `since`), with no purchase points yet. Points earned now expire CLUB_POINTS_EXPIRY_DAYS
    from now. Running it twice credits once (the ledger's keys). With `dry_run`, each chunk is
    computed and rolled back, so the figures are what a real run would credit.
    `progress(done, total)` is called after each chunk."""
    orders = Order.objects.filter(is_counted=True, customer__membership__status=Membership.Status.ACTIVE,
                                  placed_at__gte=F("customer__membership__joined_at"))
    if since is not None:
        orders = orders.filter(placed_at__gte=since)
    orders = orders.exclude(Exists(PointsTransaction.objects.filter(order=OuterRef("pk"), source=Source.ORDER, kind=Kind.EARN))) \
        .exclude(Exists(PendingPoints.objects.filter(order=OuterRef("pk"))))
    pairs = list(orders.order_by("customer_id", "pk").values_list("customer_id", "pk"))
    totals = {"orders_examined": len(pairs), "orders_credited": 0, "points": 0, "members": 0}
    members: set[int] = set()
    done = 0
    for chunk in whole_groups(pairs, BACKFILL_CHUNK):
        done += len(chunk)
        try:
            with transaction.atomic():
                rows = points_award_for_orders(order_ids=chunk)  # purchase rows (the referral rewards are not listed)
                totals["orders_credited"] += len({row.order_id for row in rows})
                totals["points"] += sum(row.points for row in rows)
                members.update(row.member_id for row in rows)
                if dry_run:
                    raise _DryRun
        except _DryRun:
            pass
        if progress is not None:
            progress(done, len(pairs))
    totals["members"] = len(members)
    return totals
