"""Reads over the points ledger: what is left of each credit (FIFO), the sums the cached
balances are checked against, points about to expire, a member's rows."""

from collections.abc import Callable
from datetime import date, datetime, timedelta

from django.db.models import F, IntegerField, OuterRef, QuerySet, Subquery, Sum, Value, Window
from django.db.models.functions import Coalesce
from django.utils import timezone

from club.dates import day_end
from club.models import Coupon, EarningRule, Membership, PendingPoints, PointsTransaction
from core.value_rows import Row
from crm.models import Order

Kind = PointsTransaction.Kind


def credits_with_remaining(member_ids=None) -> QuerySet:
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


def points_expiring(member: Membership, *, within_days: int, at: datetime | None = None) -> tuple[int, date | None]:
    """Points that will expire in the next `within_days` days, and the first date they do."""
    at = at or timezone.now()
    end = day_end(timezone.localdate(at) + timedelta(days=within_days))
    total, first = 0, None
    for credit in credits_with_remaining([member.pk]).order_by():
        if credit.expires_at is None or credit.expires_at >= end:
            continue
        left = credit_remaining(credit)
        if left > 0:
            total += left
            first = min(first, credit.expires_at) if first else credit.expires_at
    return total, (timezone.localdate(first) if first else None)


# --- What the cached figures on Membership must equal ----------------------------------------
# Expressions over a Membership queryset (OuterRef("pk") is the membership), so one UPDATE can
# set the cached figures and one SELECT can find those that disagree.


def ledger_balance_sum():
    """The member's balance: the sum of their ledger."""
    return Coalesce(
        Subquery(
            PointsTransaction.objects.filter(member=OuterRef("pk")).order_by().values("member")
            .annotate(total=Sum("points")).values("total"),
            output_field=IntegerField(),
        ),
        Value(0),
    )


def ledger_pending_sum():
    """Points the member holds as pending (not yet spendable)."""
    return Coalesce(
        Subquery(
            PendingPoints.objects.filter(member=OuterRef("pk"), status=PendingPoints.Status.PENDING).order_by()
            .values("member").annotate(total=Sum("points")).values("total"),
            output_field=IntegerField(),
        ),
        Value(0),
    )


def ledger_shortfall_sum():
    """Points reversals could not take back because the member had already spent them."""
    return Coalesce(
        Subquery(
            PointsTransaction.objects.filter(member=OuterRef("pk"), kind=Kind.REVERSE).order_by().values("member")
            .annotate(total=Sum("shortfall")).values("total"),
            output_field=IntegerField(),
        ),
        Value(0),
    )


def member_ledger(member: Membership) -> QuerySet:
    """The member's rows, newest first, without their facts: `ledger_rows` them, page, then `ledger_facts_load` the page."""
    return member.transactions.order_by("-created_at", "-id")


def customer_ledger(customer_public_id) -> QuerySet:
    """The rows of the membership of the customer with this public id, newest first, in one statement that joins
    the membership and the customer (as a bare `.values()` read would): a till's ledger page costs the one query
    of its rows (issue 17). No rows: no such customer, not a member, or an empty ledger alike. For callers that may
    see every customer (the API scopes its own-data-only keys through `member_ledger`)."""
    return PointsTransaction.objects.filter(member__customer__public_id=customer_public_id).order_by("-created_at", "-id")


# What a ledger row shows and `description` reads (the facts are loaded by `ledger_facts_load`): the rest (the order
# lines a reversal took back, a JSON document decoded per row, the idempotency key, the author) stays unread.
LEDGER_ROW_FIELDS = ("id", "public_id", "points", "kind", "source", "reason", "order_id", "rule_id", "original_id",
                     "source_ref", "shortfall", "created_at", "expires_at")


def ledger_rows(queryset: QuerySet) -> QuerySet:
    """The ledger rows of `queryset` as `.values()` rows of what a row shows: page them, then `ledger_facts_load`
    the page. No model instance per row (building them was a fifth of an API ledger page's own time, issue 17)."""
    return queryset.values(*LEDGER_ROW_FIELDS)


def ledger_facts_load(rows: list[dict]) -> list[Row]:
    """A page of `ledger_rows` as rows read as attributes, with the related rows `description` reads
    (club.models.ledger.ledger_row_description): a query per kind of fact that some row of the page has (none for a
    page of staff adjustments), instead of `with_facts()`'s five joins, whose planning and columns were most of an
    API ledger page's time (issue 17). The order comes with its customer, the coupon with its offer."""
    rows = [Row(row) for row in rows]
    _facts_attach(rows, "order_id", "order", lambda: Order.objects.select_related("customer"))
    _facts_attach(rows, "rule_id", "rule", lambda: EarningRule.objects.all())
    _facts_attach(rows, "original_id", "original", lambda: PointsTransaction.objects.only("created_at"))
    offers = [row for row in rows if row.kind == Kind.REDEEM and row.source == PointsTransaction.Source.OFFER]
    if offers:
        coupons = Coupon.objects.select_related("offer").filter(points_transaction_id__in=[row.id for row in offers])
        by_row = {coupon.points_transaction_id: coupon for coupon in coupons}
        for row in offers:
            row.coupon = by_row.get(row.id)
    return rows


def _facts_attach(rows: list[Row], column: str, name: str, queryset: Callable[[], QuerySet]) -> None:
    """Each row that has `column` gets the related instance as `name`, all in one query; the others are not asked.
    The queryset is built only when some row has the fact (building one costs more than a page of adjustments)."""
    having = [row for row in rows if getattr(row, column) is not None]
    if having:
        found = queryset().in_bulk({getattr(row, column) for row in having})
        for row in having:
            setattr(row, name, found[getattr(row, column)])


def members_with_shortfall() -> QuerySet:
    return Membership.objects.filter(points_shortfall__gt=0).select_related("customer", "tier").order_by("-points_shortfall")
