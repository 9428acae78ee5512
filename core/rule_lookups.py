"""Condition builders for segment rule fields (core.rule_fields), shared by every contributing app.

Each returns a `build_q(field, op, value, now) -> Q` over Customer. A value reaches them already
checked by the rule compiler (a number is a Decimal, a date a date, `between` a (low, high) pair,
`in` a list). They turn comparisons into bounds on a column, so the column's index serves them;
nothing is evaluated customer by customer in Python.
"""

from collections.abc import Callable
from datetime import date, datetime, time, timedelta

from django.db.models import Exists, Q
from django.utils import timezone

from core.rule_fields import RuleField

Build = Callable[[RuleField, str, object, datetime], Q]

# Matches no row; the neutral element of an OR built up in a loop.
NOTHING = Q(pk__in=[])


def column_comparison(column: str) -> Build:
    """Plain comparisons on one column or alias (text, number, choice): eq, lt, between, in, is_set..."""

    def build(spec: RuleField, op: str, value, now: datetime) -> Q:
        blank_is_unset = spec.kind in ("text", "choice")  # an empty text means "not given"
        if op == "is_set":
            present = Q(**{f"{column}__isnull": False})
            return present & ~Q(**{column: ""}) if blank_is_unset else present
        if op == "is_not_set":
            return Q(**{f"{column}__isnull": True}) | (Q(**{column: ""}) if blank_is_unset else NOTHING)
        if op == "between":
            low, high = value
            return Q(**{f"{column}__gte": low, f"{column}__lte": high})
        text = spec.kind == "text"
        lookups = {"eq": "iexact" if text else "exact", "lt": "lt", "lte": "lte", "gt": "gt", "gte": "gte",
                   "contains": "icontains", "in": "in"}
        # "not equal" also selects the customers without a value: SQL's NULL <> x would drop them.
        if op == "ne":
            return ~Q(**{f"{column}__{lookups['eq']}": value}) | Q(**{f"{column}__isnull": True})
        if op == "not_in":
            return ~Q(**{f"{column}__in": value}) | Q(**{f"{column}__isnull": True})
        if op == "in" and text:
            condition = NOTHING
            for item in value:
                condition |= Q(**{f"{column}__iexact": item})
            return condition
        return Q(**{f"{column}__{lookups[op]}": value})

    return build


def date_comparison(column: str) -> Build:
    """Dates compare by calendar day in TIME_ZONE: eq means any time that day."""

    def start(day: date) -> datetime:
        return timezone.make_aware(datetime.combine(day, time.min))

    def build(spec: RuleField, op: str, value, now: datetime) -> Q:
        if op in ("is_set", "is_not_set"):
            return Q(**{f"{column}__isnull": op == "is_not_set"})
        if op == "between":
            low, high = value
            return Q(**{f"{column}__gte": start(low), f"{column}__lt": start(high + timedelta(days=1))})
        next_day = start(value + timedelta(days=1))
        return {
            "eq": Q(**{f"{column}__gte": start(value), f"{column}__lt": next_day}),
            "lt": Q(**{f"{column}__lt": start(value)}),
            "lte": Q(**{f"{column}__lt": next_day}),
            "gt": Q(**{f"{column}__gte": next_day}),
            "gte": Q(**{f"{column}__gte": start(value)}),
        }[op]

    return build


def whole_units_comparison(op: str, value, *, at_least: Callable[[object], Q], below: Callable[[object], Q],
                           is_set: Q) -> Q:
    """A count of whole units (days since X, years of age) compared through its two bounds:
    `at_least(n)` selects a count >= n and `below(n)` a count < n, each a range on the underlying column."""
    if op == "between":
        low, high = value
        return at_least(low) & below(high + 1)
    if op in ("in", "not_in"):
        condition = NOTHING
        for n in value:
            condition |= at_least(n) & below(n + 1)
        return condition if op == "in" else ~condition & is_set
    return {
        "eq": at_least(value) & below(value + 1),
        "ne": below(value) | at_least(value + 1),
        "lt": below(value),
        "lte": below(value + 1),
        "gt": at_least(value + 1),
        "gte": at_least(value),
    }[op]


def days_since(column: str) -> Build:
    """"N days since X" becomes bounds on X, so the index on X serves it.
    days_since = the number of whole days between X and now."""

    def build(spec: RuleField, op: str, value, now: datetime) -> Q:
        if op in ("is_set", "is_not_set"):
            return Q(**{f"{column}__isnull": op == "is_not_set"})
        return whole_units_comparison(
            op, value,
            at_least=lambda n: Q(**{f"{column}__lte": now - timedelta(days=float(n))}),  # X <= now - n days
            below=lambda n: Q(**{f"{column}__gt": now - timedelta(days=float(n))}),  # X > now - n days
            is_set=Q(**{f"{column}__isnull": False}),
        )

    return build


def bool_column(column: str) -> Build:
    """A boolean column: eq true / ne true."""

    def build(spec: RuleField, op: str, value, now: datetime) -> Q:
        return Q(**{column: value if op == "eq" else not value})

    return build


def exists_flag(rows: Callable[[], Exists]) -> Build:
    """A yes/no field that holds when a related row exists (`rows()` is an Exists over OuterRef("pk"))."""

    def build(spec: RuleField, op: str, value, now: datetime) -> Q:
        wanted = value if op == "eq" else not value
        return Q(rows()) if wanted else ~Q(rows())

    return build
