"""The segment rule fields crm contributes (core.rule_fields): the customer's profile, consent,
tags, lifecycle stage and order figures. Registered by crm/contributions.py."""

from datetime import date, datetime, timedelta

from django.db.models import Case, DecimalField, Exists, F, OuterRef, Q, Value, When
from django.db.models.functions import ExtractMonth
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.rule_fields import (
    BOOL_OPS, CHOICE_OPS, DATE_OPS, MAX_DAYS, MAX_YEARS, NUMBER_OPS, TAGS_OPS, TEXT_OPS, RuleField, at_most,
)
from core.rule_lookups import (
    bool_column, column_comparison, date_comparison, days_since, whole_units_comparison,
)
from crm.models import MONEY, Customer, Order, OrderLine
from crm.querysets import lifecycle_stage_expression


def age(spec: RuleField, op: str, value, now: datetime) -> Q:
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
    return whole_units_comparison(
        op, value,
        at_least=lambda n: Q(birth_date__lte=born_by(n)), below=lambda n: Q(birth_date__gt=born_by(n)),
        is_set=Q(birth_date__isnull=False),
    )


def tags(spec: RuleField, op: str, value, now: datetime) -> Q:
    through = Customer.tags.through
    if op in ("is_set", "is_not_set"):
        condition = Exists(through.objects.filter(customer_id=OuterRef("pk")))
        return Q(condition) if op == "is_set" else ~Q(condition)
    names = value if isinstance(value, list) else [value]
    has = Exists(through.objects.filter(customer_id=OuterRef("pk"), tag__name__in=names))
    return ~Q(has) if op in ("ne", "not_in") else Q(has)


def category_window(spec: RuleField, op: str, value, now: datetime) -> Q:
    bought = Exists(OrderLine.objects.filter(
        order__customer_id=OuterRef("pk"), order__is_counted=True, category__iexact=value["category"],
        order__placed_at__gte=now - timedelta(days=value["days"]),
    ))
    return ~Q(bought) if op == "ne" else Q(bought)


def order_channel(spec: RuleField, op: str, value, now: datetime) -> Q:
    if op in ("is_set", "is_not_set"):
        any_order = Exists(Order.objects.filter(customer_id=OuterRef("pk"), is_counted=True))
        return Q(any_order) if op == "is_set" else ~Q(any_order)
    channels = value if isinstance(value, list) else [value]
    used = Exists(Order.objects.filter(customer_id=OuterRef("pk"), is_counted=True, channel__in=channels))
    return ~Q(used) if op in ("ne", "not_in") else Q(used)


def average_order_value(now: datetime) -> dict:
    return {"_rule_average_order_value": Case(
        When(orders_count__gt=0, then=F("total_spent") / F("orders_count")), default=Value(None),
        output_field=DecimalField(**MONEY),
    )}


FIELDS = (
    RuleField("first_name", _("First name"), "text", TEXT_OPS, column_comparison("first_name")),
    RuleField("last_name", _("Last name"), "text", TEXT_OPS, column_comparison("last_name")),
    RuleField("email", _("Email"), "text", TEXT_OPS, column_comparison("email")),
    RuleField("city", _("City"), "text", TEXT_OPS, column_comparison("city")),
    RuleField("country", _("Country (ISO code)"), "text", TEXT_OPS, column_comparison("country")),
    RuleField("source", _("Acquisition source"), "text", TEXT_OPS, column_comparison("source")),
    RuleField("tags", _("Tags"), "tags", TAGS_OPS, tags),
    RuleField("gender", _("Gender"), "choice", CHOICE_OPS, column_comparison("gender"),
              choices=lambda: list(Customer.Gender.values)),
    RuleField("language", _("Preferred language"), "choice", CHOICE_OPS, column_comparison("language"),
              choices=lambda: [code for code, _label in Customer._meta.get_field("language").choices]),
    RuleField("birth_month", _("Birth month (1-12)"), "number", NUMBER_OPS, column_comparison("_rule_birth_month"),
              aliases=lambda now: {"_rule_birth_month": ExtractMonth("birth_date")}),
    RuleField("age", _("Age (years)"), "number", NUMBER_OPS, age, check=at_most(MAX_YEARS)),
    RuleField("acquired_at", _("Acquired on"), "date", DATE_OPS, date_comparison("acquired_at")),
    RuleField("lifecycle_stage", _("Lifecycle stage"), "choice", CHOICE_OPS, column_comparison("_rule_lifecycle_stage"),
              choices=lambda: list(Customer.LifecycleStage.values),
              aliases=lambda now: {"_rule_lifecycle_stage": lifecycle_stage_expression(at=now)}),
    RuleField("orders_count", _("Number of orders"), "number", NUMBER_OPS, column_comparison("orders_count")),
    RuleField("total_spent", _("Total spent"), "number", NUMBER_OPS, column_comparison("total_spent")),
    RuleField("average_order_value", _("Average order value"), "number", NUMBER_OPS,
              column_comparison("_rule_average_order_value"), aliases=average_order_value),
    RuleField("days_since_last_order", _("Days since last order"), "number", NUMBER_OPS, days_since("last_order_at"),
              check=at_most(MAX_DAYS)),
    RuleField("days_since_first_order", _("Days since first order"), "number", NUMBER_OPS, days_since("first_order_at"),
              check=at_most(MAX_DAYS)),
    RuleField("purchased_category_within_days", _("Bought a category within N days"), "category_window", ("eq", "ne"),
              category_window),
    RuleField("order_channel", _("Ordered through channel"), "choice", CHOICE_OPS, order_channel,
              choices=lambda: list(Order.Channel.values)),
    RuleField("email_opt_in", _("Email opt-in"), "bool", BOOL_OPS, bool_column("email_opt_in")),
    RuleField("sms_opt_in", _("SMS opt-in"), "bool", BOOL_OPS, bool_column("sms_opt_in")),
)
