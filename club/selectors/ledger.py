"""Reads over the points ledger: what is left of each credit (FIFO), the sums the cached
balances are checked against, points about to expire, a member's rows."""

from datetime import date, datetime, timedelta

from django.db.models import F, IntegerField, OuterRef, QuerySet, Subquery, Sum, Value, Window, prefetch_related_objects
from django.db.models.functions import Coalesce
from django.utils import timezone

from club.dates import day_end
from club.models import Membership, PendingPoints, PointsTransaction

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
    """The member's rows, newest first, without their facts: page them, then `ledger_facts_load` the page."""
    return member.transactions.order_by("-created_at", "-id")


def customers_ledger(customers: QuerySet) -> QuerySet:
    """The rows of the membership of the customer(s) in `customers`, newest first, in one statement with the look-up
    of the customer and its membership (the membership joined, the customers a subquery): a till's ledger page costs
    the one query of its rows (issue 17). No rows: no such customer, not a member, or an empty ledger alike."""
    return (PointsTransaction.objects.filter(member__customer__in=customers).order_by("-created_at", "-id")
            .only(*LEDGER_ROW_FIELDS))


# What a ledger row shows and `description` reads (the facts are loaded by `ledger_facts_load`): the rest (the order
# lines a reversal took back, a JSON document decoded per row, the idempotency key, the author) stays unread.
LEDGER_ROW_FIELDS = ("public_id", "points", "kind", "source", "reason", "order_id", "rule_id", "original_id",
                     "source_ref", "shortfall", "created_at", "expires_at")


def ledger_facts_load(rows: list[PointsTransaction]) -> list[PointsTransaction]:
    """The related rows `description` reads, loaded for a page of rows: a query per kind of fact that some row
    of the page has (none for a page of staff adjustments), instead of `with_facts()`'s five joins, whose
    planning and columns were most of an API ledger page's time (issue 17)."""
    for lookup, column in (("order__customer", "order_id"), ("rule", "rule_id"), ("original", "original_id")):
        # Only the rows that have the fact: a prefetch over rows that all lack it still builds its query (which
        # then runs nothing), and that was a third of a page of staff adjustments' time.
        having = [row for row in rows if getattr(row, column) is not None]
        if having:
            prefetch_related_objects(having, lookup)
    offers = [row for row in rows if row.kind == PointsTransaction.Kind.REDEEM and row.source == PointsTransaction.Source.OFFER]
    prefetch_related_objects(offers, "coupon__offer")
    return rows


def members_with_shortfall() -> QuerySet:
    return Membership.objects.filter(points_shortfall__gt=0).select_related("customer", "tier").order_by("-points_shortfall")
