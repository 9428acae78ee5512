"""Segment rules: JSON that marketers build, compiled to one Customer QuerySet (SQL).

Format: {"all": [cond, {"any": [cond, ...]}, ...]} (or "any" at the top), where
cond = {"field": F, "op": OP, "value": V}. Every field maps to an indexed column,
a comparison turned into bounds on a column (age, days since...), or an EXISTS
subquery; nothing is evaluated customer by customer in Python.

A rule that names an unknown field or operator, or a value of the wrong type, raises
`RuleError` with a message that says where (e.g. `all[1].any[0].value`) and what is wrong.
"""

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db.models import (
    Case, DecimalField, Exists, F, IntegerField, OuterRef, Q, QuerySet, Subquery, Value, When,
)
from django.db.models.functions import ExtractMonth
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from club.models import Membership, Tier
from crm.models import MONEY, Customer, Order, OrderLine
from crm.querysets import lifecycle_stage_expression
from feedback.models import Answer, ReturnRequest

OPERATORS = ("eq", "ne", "lt", "lte", "gt", "gte", "in", "not_in", "contains", "between", "is_set", "is_not_set")
MAX_DEPTH = 5
MAX_CONDITIONS = 50


class RuleError(ValidationError):
    pass


@dataclass(frozen=True)
class Field:
    name: str
    kind: str  # text, number, date, bool, choice, tags, category_window
    label: str
    operators: tuple[str, ...]
    build: Callable[["Field", str, object, datetime], Q]
    choices: Callable[[], list[str]] | None = None
    extra: dict = field(default_factory=dict)


TEXT_OPS = ("eq", "ne", "in", "not_in", "contains", "is_set", "is_not_set")
NUMBER_OPS = ("eq", "ne", "lt", "lte", "gt", "gte", "between", "in", "not_in", "is_set", "is_not_set")
DATE_OPS = ("eq", "lt", "lte", "gt", "gte", "between", "is_set", "is_not_set")
CHOICE_OPS = ("eq", "ne", "in", "not_in", "is_set", "is_not_set")
BOOL_OPS = ("eq", "ne")


# --- value checking -------------------------------------------------------------------------

def _number(value, where: str):
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise RuleError(f"{where}: expected a number, got {value!r}.")
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise RuleError(f"{where}: expected a number, got {value!r}.") from None
    if not number.is_finite() or abs(number) > Decimal("1e12"):
        raise RuleError(f"{where}: {value!r} is not a usable number.")
    return number


def _date(value, where: str) -> date:
    if isinstance(value, str):
        parsed = parse_date(value) or (parse_datetime(value).date() if parse_datetime(value) else None)
        if parsed:
            return parsed
    raise RuleError(f"{where}: expected a date as YYYY-MM-DD, got {value!r}.")


def _text(value, where: str) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > 200:
        raise RuleError(f"{where}: expected a non-empty text of at most 200 characters, got {value!r}.")
    return value.strip()


def _list(value, where: str, item: Callable) -> list:
    if not isinstance(value, list) or not value or len(value) > 500:
        raise RuleError(f"{where}: expected a non-empty list (at most 500 items), got {value!r}.")
    return [item(element, f"{where}[{index}]") for index, element in enumerate(value)]


def _pair(value, where: str, item: Callable) -> tuple:
    if not isinstance(value, list) or len(value) != 2:
        raise RuleError(f"{where}: 'between' takes a list of two values [low, high], got {value!r}.")
    low, high = item(value[0], f"{where}[0]"), item(value[1], f"{where}[1]")
    if low > high:
        raise RuleError(f"{where}: the low value {value[0]!r} is above the high value {value[1]!r}.")
    return low, high


def _bool(value, where: str) -> bool:
    if not isinstance(value, bool):
        raise RuleError(f"{where}: expected true or false, got {value!r}.")
    return value


def _choice(spec: Field) -> Callable:
    def check(value, where: str):
        if not isinstance(value, str):
            raise RuleError(f"{where}: expected one of {', '.join(spec.choices())}, got {value!r}.")
        allowed = spec.choices()
        matches = [choice for choice in allowed if choice.lower() == value.strip().lower()]
        if not matches:
            raise RuleError(f"{where}: {value!r} is not one of {', '.join(allowed)}.")
        return matches[0]

    return check


# --- builders: (field, op, checked value, now) -> Q --------------------------------------------

def _compare(column: str) -> Callable:
    """Plain comparisons on one column (text, number, choice, bool)."""

    def build(spec: Field, op: str, value, now: datetime) -> Q:
        if op == "is_set":
            return Q(**{f"{column}__isnull": False}) & ~Q(**{column: ""}) if spec.kind in ("text", "choice") else Q(**{f"{column}__isnull": False})
        if op == "is_not_set":
            return Q(**{f"{column}__isnull": True}) | (Q(**{column: ""}) if spec.kind in ("text", "choice") else Q(pk__in=[]))
        if op == "between":
            low, high = value
            return Q(**{f"{column}__gte": low, f"{column}__lte": high})
        text = spec.kind == "text"
        lookups = {"eq": "iexact" if text else "exact", "lt": "lt", "lte": "lte", "gt": "gt", "gte": "gte",
                   "contains": "icontains", "in": "in"}
        if op == "ne":
            return ~Q(**{f"{column}__{lookups['eq']}": value}) | Q(**{f"{column}__isnull": True})
        if op == "not_in":
            return ~Q(**{f"{column}__in": value}) | Q(**{f"{column}__isnull": True})
        if op == "in" and text:
            condition = Q(pk__in=[])
            for item in value:
                condition |= Q(**{f"{column}__iexact": item})
            return condition
        return Q(**{f"{column}__{lookups[op]}": value})

    return build


def _date_column(column: str) -> Callable:
    """Dates compare by calendar day in TIME_ZONE: eq means any time that day."""

    def start(day: date) -> datetime:
        return timezone.make_aware(datetime.combine(day, time.min))

    def build(spec: Field, op: str, value, now: datetime) -> Q:
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


def _days_since(column: str) -> Callable:
    """"N days since X" becomes bounds on X, so the index on X serves it.
    days_since = the number of whole days between X and now."""

    def build(spec: Field, op: str, value, now: datetime) -> Q:
        if op in ("is_set", "is_not_set"):
            return Q(**{f"{column}__isnull": op == "is_not_set"})

        def at_least(n) -> Q:  # days_since >= n  <=>  X <= now - n days
            return Q(**{f"{column}__lte": now - timedelta(days=float(n))})

        def below(n) -> Q:  # days_since < n  <=>  X > now - n days
            return Q(**{f"{column}__gt": now - timedelta(days=float(n))})

        if op == "between":
            low, high = value
            return at_least(low) & below(high + 1)
        if op in ("in", "not_in"):
            condition = Q(pk__in=[])
            for n in value:
                condition |= at_least(n) & below(n + 1)
            return condition if op == "in" else ~condition & Q(**{f"{column}__isnull": False})
        return {
            "eq": at_least(value) & below(value + 1),
            "ne": (below(value) | at_least(value + 1)),
            "lt": below(value),
            "lte": below(value + 1),
            "gt": at_least(value + 1),
            "gte": at_least(value),
        }[op]

    return build


def _age(spec: Field, op: str, value, now: datetime) -> Q:
    """Age in whole years from birth_date, as bounds on birth_date."""
    today = timezone.localtime(now).date()

    def born_by(years) -> date:  # age >= years  <=>  birth_date <= today - years
        years = int(years)
        try:
            return today.replace(year=today.year - years)
        except ValueError:  # 29 February
            return today.replace(year=today.year - years, day=28)

    if op in ("is_set", "is_not_set"):
        return Q(birth_date__isnull=op == "is_not_set")

    def at_least(n):
        return Q(birth_date__lte=born_by(n))

    def below(n):
        return Q(birth_date__gt=born_by(n))

    if op == "between":
        low, high = value
        return at_least(low) & below(high + 1)
    if op in ("in", "not_in"):
        condition = Q(pk__in=[])
        for n in value:
            condition |= at_least(n) & below(n + 1)
        return condition if op == "in" else ~condition & Q(birth_date__isnull=False)
    return {
        "eq": at_least(value) & below(value + 1), "ne": (below(value) | at_least(value + 1)),
        "lt": below(value), "lte": below(value + 1), "gt": at_least(value + 1), "gte": at_least(value),
    }[op]


def _tags(spec: Field, op: str, value, now: datetime) -> Q:
    through = Customer.tags.through
    if op in ("is_set", "is_not_set"):
        condition = Exists(through.objects.filter(customer_id=OuterRef("pk")))
        return Q(condition) if op == "is_set" else ~Q(condition)
    names = value if isinstance(value, list) else [value]
    has = Exists(through.objects.filter(customer_id=OuterRef("pk"), tag__name__in=names))
    return ~Q(has) if op in ("ne", "not_in") else Q(has)


def _category_window(spec: Field, op: str, value, now: datetime) -> Q:
    bought = Exists(OrderLine.objects.filter(
        order__customer_id=OuterRef("pk"), order__is_counted=True, category__iexact=value["category"],
        order__placed_at__gte=now - timedelta(days=value["days"]),
    ))
    return ~Q(bought) if op == "ne" else Q(bought)


def _order_channel(spec: Field, op: str, value, now: datetime) -> Q:
    if op in ("is_set", "is_not_set"):
        any_order = Exists(Order.objects.filter(customer_id=OuterRef("pk"), is_counted=True))
        return Q(any_order) if op == "is_set" else ~Q(any_order)
    channels = value if isinstance(value, list) else [value]
    used = Exists(Order.objects.filter(customer_id=OuterRef("pk"), is_counted=True, channel__in=channels))
    return ~Q(used) if op in ("ne", "not_in") else Q(used)


def _member(spec: Field, op: str, value, now: datetime) -> Q:
    active = Exists(Membership.objects.filter(customer_id=OuterRef("pk"), status=Membership.Status.ACTIVE))
    wanted = value if op == "eq" else not value
    return Q(active) if wanted else ~Q(active)


def _open_return(spec: Field, op: str, value, now: datetime) -> Q:
    open_states = ["requested", "approved", "received"]
    has = Exists(ReturnRequest.objects.filter(customer_id=OuterRef("pk"), state__in=open_states))
    wanted = value if op == "eq" else not value
    return Q(has) if wanted else ~Q(has)


def _expression(name: str) -> Callable:
    """Fields computed by an SQL expression (aliased on the queryset as `_rule_<name>`)."""
    column = f"_rule_{name}"

    def build(spec: Field, op: str, value, now: datetime) -> Q:
        return _compare(column)(spec, op, value, now)

    return build


def _tier_names() -> list[str]:
    return list(Tier.objects.order_by("rank").values_list("name", flat=True))


def _bool_field(column: str) -> Callable:
    def build(spec: Field, op: str, value, now: datetime) -> Q:
        return Q(**{column: value if op == "eq" else not value})

    return build


FIELDS: dict[str, Field] = {}


def _register(*fields: Field) -> None:
    for spec in fields:
        FIELDS[spec.name] = spec


_register(
    Field("first_name", "text", "First name", TEXT_OPS, _compare("first_name")),
    Field("last_name", "text", "Last name", TEXT_OPS, _compare("last_name")),
    Field("email", "text", "Email", TEXT_OPS, _compare("email")),
    Field("city", "text", "City", TEXT_OPS, _compare("city")),
    Field("country", "text", "Country (ISO code)", TEXT_OPS, _compare("country")),
    Field("source", "text", "Acquisition source", TEXT_OPS, _compare("source")),
    Field("tags", "tags", "Tags", ("contains", "in", "not_in", "is_set", "is_not_set"), _tags),
    Field("gender", "choice", "Gender", CHOICE_OPS, _compare("gender"), choices=lambda: list(Customer.Gender.values)),
    Field("language", "choice", "Preferred language", CHOICE_OPS, _compare("language"),
          choices=lambda: [code for code, _ in Customer._meta.get_field("language").choices]),
    Field("birth_month", "number", "Birth month (1-12)", NUMBER_OPS, _expression("birth_month")),
    Field("age", "number", "Age (years)", NUMBER_OPS, _age),
    Field("acquired_at", "date", "Acquired on", DATE_OPS, _date_column("acquired_at")),
    Field("lifecycle_stage", "choice", "Lifecycle stage", CHOICE_OPS, _expression("lifecycle_stage"),
          choices=lambda: list(Customer.LifecycleStage.values)),
    Field("orders_count", "number", "Number of orders", NUMBER_OPS, _compare("orders_count")),
    Field("total_spent", "number", "Total spent", NUMBER_OPS, _compare("total_spent")),
    Field("average_order_value", "number", "Average order value", NUMBER_OPS, _expression("average_order_value")),
    Field("days_since_last_order", "number", "Days since last order", NUMBER_OPS, _days_since("last_order_at")),
    Field("days_since_first_order", "number", "Days since first order", NUMBER_OPS, _days_since("first_order_at")),
    Field("purchased_category_within_days", "category_window", "Bought a category within N days", ("eq", "ne"),
          _category_window),
    Field("order_channel", "choice", "Ordered through channel", CHOICE_OPS, _order_channel,
          choices=lambda: list(Order.Channel.values)),
    Field("is_member", "bool", "Club member", BOOL_OPS, _member),
    Field("tier", "choice", "Club tier", CHOICE_OPS, _compare("membership__tier__name"), choices=_tier_names),
    Field("points_balance", "number", "Points balance", NUMBER_OPS, _compare("membership__points_balance")),
    Field("joined_days_ago", "number", "Days since joining the club", NUMBER_OPS, _days_since("membership__joined_at")),
    Field("nps_category", "choice", "Latest NPS answer", CHOICE_OPS, _expression("nps_category"),
          choices=lambda: ["promoter", "passive", "detractor"]),
    Field("has_open_return", "bool", "Has an open return", BOOL_OPS, _open_return),
    Field("email_opt_in", "bool", "Email opt-in", BOOL_OPS, _bool_field("email_opt_in")),
    Field("sms_opt_in", "bool", "SMS opt-in", BOOL_OPS, _bool_field("sms_opt_in")),
)


# --- fields of higher apps --------------------------------------------------------------------
# A stopgap until core's RuleField contribution registry takes over: campaigns may not import
# analytics, so analytics adds its fields (rfm_segment, p_alive) here from its AppConfig.ready().

def register_fields(*fields: Field) -> None:
    _register(*fields)


def column_comparison(column: str) -> Callable:
    """The builder of a plain column comparison (eq, lt, between, in, is_set...), for registered fields."""
    return _compare(column)


def _aliases(names: set[str], now: datetime) -> dict:
    aliases = {}
    if "birth_month" in names:
        aliases["_rule_birth_month"] = ExtractMonth("birth_date")
    if "lifecycle_stage" in names:
        aliases["_rule_lifecycle_stage"] = lifecycle_stage_expression(at=now)
    if "average_order_value" in names:
        aliases["_rule_average_order_value"] = Case(
            When(orders_count__gt=0, then=F("total_spent") / F("orders_count")), default=Value(None),
            output_field=DecimalField(**MONEY),
        )
    if "nps_category" in names:
        latest = Answer.objects.filter(
            response__customer_id=OuterRef("pk"), question__scores="nps", number__isnull=False
        ).order_by("-response__submitted_at", "-pk").values("number")[:1]
        score = Subquery(latest, output_field=IntegerField())
        aliases["_rule_nps_category"] = Case(
            When(Q(_rule_nps_score__gte=9), then=Value("promoter")),
            When(Q(_rule_nps_score__gte=7), then=Value("passive")),
            When(Q(_rule_nps_score__isnull=False), then=Value("detractor")),
            default=Value(None),
        )
        aliases = {"_rule_nps_score": score, **aliases}
    return aliases


# --- the compiler -----------------------------------------------------------------------------

@dataclass
class Compiled:
    condition: Q
    fields: set[str]
    now: datetime | None = None
    rules: object = None  # what was compiled, so a caller can tell whether it still matches


def validate(rules) -> None:
    """Raise RuleError when the rules are malformed; do nothing otherwise."""
    compile_rules(rules)


def compile_rules(rules, *, at: datetime | None = None) -> Compiled:
    """Validate and compile once; pass the result to customers_matching(compiled=...) to reuse it
    (a segment's save validates and counts with one compile)."""
    return _compile(rules, at or timezone.now())


def _compile(rules, now: datetime) -> Compiled:
    if not isinstance(rules, dict) or len(rules) != 1 or next(iter(rules)) not in ("all", "any"):
        raise RuleError('rules: expected {"all": [...]} or {"any": [...]} at the top.')
    counter = [0]
    fields: set[str] = set()
    condition = _group(rules, "", now, fields, counter, depth=1)
    return Compiled(condition=condition, fields=fields, now=now, rules=copy.deepcopy(rules))


def _group(node: dict, where: str, now: datetime, fields: set[str], counter: list[int], depth: int) -> Q:
    join = next(iter(node))
    items = node[join]
    path = f"{where}{join}"
    if depth > MAX_DEPTH:
        raise RuleError(f"{path}: groups may be nested at most {MAX_DEPTH} deep.")
    if not isinstance(items, list):
        raise RuleError(f"{path}: expected a list of conditions.")
    combined = Q() if join == "all" else Q(pk__in=[])
    if not items:
        return combined if join == "all" else Q()
    for index, item in enumerate(items):
        item_path = f"{path}[{index}]"
        if isinstance(item, dict) and len(item) == 1 and next(iter(item)) in ("all", "any"):
            part = _group(item, f"{item_path}.", now, fields, counter, depth + 1)
        else:
            part = _condition(item, item_path, now, fields, counter)
        combined = combined & part if join == "all" else combined | part
    return combined


def _condition(item, where: str, now: datetime, fields: set[str], counter: list[int]) -> Q:
    counter[0] += 1
    if counter[0] > MAX_CONDITIONS:
        raise RuleError(f"rules: at most {MAX_CONDITIONS} conditions.")
    if not isinstance(item, dict):
        raise RuleError(f'{where}: expected a condition {{"field": ..., "op": ..., "value": ...}} or a group.')
    unknown_keys = set(item) - {"field", "op", "value"}
    if unknown_keys:
        raise RuleError(f"{where}: unknown key {', '.join(sorted(map(repr, unknown_keys)))}.")
    name, op = item.get("field"), item.get("op")
    spec = FIELDS.get(name) if isinstance(name, str) else None
    if spec is None:
        raise RuleError(f"{where}.field: unknown field {name!r}; known fields: {', '.join(FIELDS)}.")
    if op not in OPERATORS:
        raise RuleError(f"{where}.op: unknown operator {op!r}; operators: {', '.join(OPERATORS)}.")
    if op not in spec.operators:
        raise RuleError(f"{where}.op: the field {name!r} does not take {op!r}; it takes {', '.join(spec.operators)}.")
    value = _checked_value(spec, op, item.get("value"), f"{where}.value", "value" in item)
    fields.add(name)
    return spec.build(spec, op, value, now)


def _checked_value(spec: Field, op: str, value, where: str, present: bool):
    if op in ("is_set", "is_not_set"):
        return None
    if not present:
        raise RuleError(f"{where}: the operator {op!r} needs a value.")
    if spec.kind == "category_window":
        if not isinstance(value, dict) or set(value) != {"category", "days"}:
            raise RuleError(f'{where}: expected {{"category": "...", "days": N}}, got {value!r}.')
        days = _number(value["days"], f"{where}.days")
        if days < 1 or days != int(days):
            raise RuleError(f"{where}.days: expected a whole number of days of at least 1, got {value['days']!r}.")
        return {"category": _text(value["category"], f"{where}.category"), "days": int(days)}
    item = {
        "text": _text, "number": _number, "date": _date, "bool": _bool, "tags": _text,
        "choice": _choice(spec) if spec.choices else _text,
    }[spec.kind]
    if op == "between":
        return _pair(value, where, item)
    if op in ("in", "not_in"):
        return _list(value, where, item)
    if spec.kind == "tags" and op == "contains":
        return item(value, where)
    return item(value, where)


def customers_matching(rules, *, at: datetime | None = None, base: QuerySet | None = None,
                       compiled: Compiled | None = None) -> QuerySet[Customer]:
    """The customers a rule set selects, as one QuerySet (from `compiled` when given: no second compile)."""
    if compiled is None:
        compiled = compile_rules(rules, at=at)
    now = compiled.now
    queryset = base if base is not None else Customer.objects.all()
    return queryset.alias(**_aliases(compiled.fields, now)).filter(compiled.condition)


def field_catalogue() -> list[dict]:
    """What the admin's rule builder offers: each field, its operators and its choices."""
    return [
        {"name": spec.name, "label": spec.label, "kind": spec.kind, "operators": list(spec.operators),
         "choices": spec.choices() if spec.choices else None}
        for spec in FIELDS.values()
    ]
